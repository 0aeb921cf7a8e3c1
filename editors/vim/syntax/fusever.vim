" Vim syntax file for fusever specs (*.fv).  Install: copy editors/vim/syntax and
" editors/vim/ftdetect into ~/.vim (or a plugin manager's path).  The keywords are
" the grammar's (grammar/fusever.lark), as in the TextMate grammar beside it.
if exists("b:current_syntax")
  finish
endif

syn keyword fuseverDecl spec variant of sort enum const var ghost init action def proc
syn keyword fuseverDecl invariant transition cover observe config merge set
syn keyword fuseverDecl replace extend remove lemma depth spinlock mutex pin
syn keyword fuseverControl property if then else for all any when where choose assume
syn keyword fuseverControl forall exists skip in by held end may
syn keyword fuseverBool true false
syn keyword fuseverType bool int
syn match fuseverType "\<[ui]\d\+\>"
syn match fuseverType "\<u\ze\s*<"
syn keyword fuseverBuiltin pow2
syn match fuseverNumber "\<\(0x\x\+\|\d\+\)\>"
syn match fuseverOperator "==>\|||\|&&\|:=\|->\|==\|!=\|<=\|>=\|<<\|>>\|[-+*%|^&~!<>=']"
syn match fuseverPlaceholder "{[^{}\"]*}" contained
syn region fuseverDescription start=+"+ end=+"\|$+ contains=fuseverPlaceholder oneline
syn keyword fuseverTodo TODO FIXME XXX contained
syn match fuseverComment "//.*$" contains=fuseverTodo
syn region fuseverComment start="/\*" end="\*/" contains=fuseverTodo
syn match fuseverDeclName "\<\(action\|def\|proc\)\s\+\zs\h\w*"

hi def link fuseverDecl Keyword
hi def link fuseverControl Conditional
hi def link fuseverBool Boolean
hi def link fuseverType Type
hi def link fuseverBuiltin Function
hi def link fuseverNumber Number
hi def link fuseverOperator Operator
hi def link fuseverDescription String
hi def link fuseverPlaceholder Special
hi def link fuseverComment Comment
hi def link fuseverTodo Todo
hi def link fuseverDeclName Function

let b:current_syntax = "fusever"
