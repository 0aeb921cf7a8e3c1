autocmd BufNewFile,BufRead *.fv setfiletype fusever
