/* fusever conform: the harness around the extracted kernel functions.
 *
 * fusever's own code: the actors' thread bodies, the frames that stand for the parts
 * of the kernel's long functions that the model does not cover (the frame of
 * fuse_dev_do_write copies no pages, say), and the world a trace runs in.  The
 * generator replaces each "@fragment F.N@" comment with the statements extracted
 * from kernel function F (fragment N of the mapping), under #line directives, so
 * every scheduling point reports the kernel's own file and line.
 */
#define H_MAX 8

struct fuse_mount h_mount;
static struct fuse_conn h_conn;
static struct super_block h_sb;
void *fuse_inode_cachep;

static struct fuse_dev *h_fud[H_MAX];
static struct fuse_inode *h_fi[H_MAX];
static int h_cached[H_MAX];
static struct file h_filev[H_MAX];
static struct fuse_file *h_ff[H_MAX];
static int h_ret_state[H_MAX]; /* 0: not returned, 1: returned, 2: closed */
static long h_ret[H_MAX];
static int h_open_thread[H_MAX];
static int h_file_fud[H_MAX];
static int h_file_inst[H_MAX];
static u64 h_file_node[H_MAX];
static struct fuse_req h_req[H_MAX];
static struct fuse_req h_other_req[H_THREADS];
static struct fuse_args h_other_args[H_THREADS];
static int h_hint_inst;
static int h_presend_wait = 1; /* the model's PRESEND_WAIT: off runs fuse_open without the wait */

/* kmem_cache_alloc does not zero: a freed fuse_inode is handed out again as it was,
 * and a fresh one is filled with a poison byte, so a missing initialization shows */
struct h_free { struct h_free *next; };
static struct h_free *h_inode_free;
#define H_POISON 0x5a

void *kmem_cache_alloc(void *cache, gfp_t flags)
{
	void *p;

	(void)cache;
	(void)flags;
	if (h_inode_free) {
		p = h_inode_free;
		h_inode_free = h_inode_free->next;
		memset(p, 0, sizeof(struct h_free)); /* only the free list's link */
		return p;
	}
	p = malloc(sizeof(struct fuse_inode));
	memset(p, H_POISON, sizeof(struct fuse_inode));
	return p;
}

static void h_inode_release(struct fuse_inode *fi)
{
	struct h_free *f = (struct h_free *)fi;
	f->next = h_inode_free;
	h_inode_free = f;
}

void *kzalloc(size_t size, gfp_t flags)
{
	(void)flags;
	return calloc(1, size);
}

int fuse_inode_eq(struct inode *inode, void *nodeidp)
{
	return get_node_id(inode) == *(u64 *)nodeidp;
}

struct inode *h_ilookup(u64 nodeid)
{
	int i;

	for (i = 0; i < H_MAX; i++)
		if (h_fi[i] && h_cached[i] && h_fi[i]->nodeid == nodeid) {
			h_fi[i]->inode.i_count++;
			return &h_fi[i]->inode;
		}
	return NULL;
}

void iput(struct inode *inode) { inode->i_count--; }
struct inode *igrab(struct inode *inode) { inode->i_count++; return inode; }

void fuse_request_end(struct fuse_req *req) { req->done = 1; }

static long h_self_file(void) { return h_self->a[0]; }

/* a request's unique: even, as the kernel's (FUSE_REQ_ID_STEP 2; the low bit marks an
 * interrupt reply) */
static u64 h_unique(int n) { return 2 * ((u64)n + 1); }
static int h_slot_of(struct inode *inode)
{
	int i;

	for (i = 0; i < H_MAX; i++)
		if (h_fi[i] && &h_fi[i]->inode == inode)
			return i;
	return -1;
}

/* the request goes to the processing queue of the fud whose read took it (the model's
 * f_fud), and the opener sleeps until a write completes it */
int fuse_simple_request(struct fuse_mount *fm, struct fuse_args *args)
{
	int f = (int)h_self_file();
	struct fuse_req *req = &h_req[f];
	struct fuse_dev *fud = h_fud[h_file_fud[f]];

	(void)fm;
	memset(req, 0, sizeof *req);
	req->in.h.unique = h_unique(f);
	req->in.h.opcode = args->opcode;
	req->args = args;
	req->h_file = f;
	list_add_tail(&req->list, &fud->pq.processing[fuse_req_hash(req->in.h.unique)]);
	while (!req->done)
		h_block("wait", "request", __FILE__, __LINE__);
	return req->out.h.error;
}

/*@prototypes@*/

/*@functions@*/

/* ---- inodes: fuse_alloc_inode and fuse_init_inode, as far as the mapping takes them */

static struct fuse_inode *h_alloc_inode(void)
{
	struct fuse_inode *fi;
	struct inode *inode;

	fi = kmem_cache_alloc(fuse_inode_cachep, GFP_KERNEL);
	inode = &fi->inode;
	(void)inode;
	/*@fragment fuse_alloc_inode.init@*/
	return fi;
}

static void h_init_inode(struct inode *inode)
{
	struct fuse_inode *fi = get_fuse_inode(inode);

	(void)fi;
	/*@fragment fuse_init_inode.init@*/
}

static struct fuse_inode *h_new_inode(int slot, u64 nodeid)
{
	struct fuse_inode *fi = h_alloc_inode();

	fi->nodeid = nodeid;
	fi->inode.i_count = 0;
	fi->inode.i_sb = &h_sb;
	fi->inode.i_mapping = &fi->inode.i_data;
	h_init_inode(&fi->inode);
	h_fi[slot] = fi;
	h_cached[slot] = 1;
	return fi;
}

/* fuse_iget: the cached instance of the nodeid, else a new one in the slot the trace
 * names (the model's instance) */
static struct inode *h_iget(u64 nodeid)
{
	struct inode *inode = h_ilookup(nodeid);

	if (inode)
		return inode;
	inode = &h_new_inode(h_hint_inst, nodeid)->inode;
	inode->i_count++;
	return inode;
}

static struct fuse_dev *h_dev_alloc(void)
{
	struct fuse_dev *fud = kzalloc(sizeof(*fud), GFP_KERNEL);

	int i;

	fud->fc = &h_conn;
	fud->pq.connected = 1;
	spin_lock_init(&fud->pq.lock);
	fud->pq.processing = calloc(FUSE_PQ_HASH_SIZE, sizeof(struct list_head));
	for (i = 0; i < FUSE_PQ_HASH_SIZE; i++)
		INIT_LIST_HEAD(&fud->pq.processing[i]);
	INIT_LIST_HEAD(&fud->pq.io);
	/*@fragment fuse_dev_alloc.init@*/
	return fud;
}

static struct fuse_file *h_file_alloc(int f)
{
	struct fuse_file *ff = kzalloc(sizeof(*ff), GFP_KERNEL);

	ff->fm = &h_mount;
	spin_lock_init(&ff->lock);
	INIT_LIST_HEAD(&ff->rw_entry);
	INIT_LIST_HEAD(&ff->write_entry);
	h_ff[f] = ff;
	h_filev[f].private_data = ff;
	return ff;
}

/* ---- the daemon: a write() on /dev/fuse, through fuse_dev_do_write ----------------- */

struct h_message {
	struct fuse_out_header oh;
	struct fuse_notify_inval_files_out outarg;
};

static ssize_t h_write(struct fuse_dev *fud, struct h_message *m, size_t nbytes)
{
	struct fuse_copy_state cs;

	memset(&cs, 0, sizeof cs);
	m->oh.len = (u32)nbytes;
	cs.buf = (const char *)m;
	cs.len = nbytes;
	cs.move_pages = 1;
	return fuse_dev_do_write(fud, &cs, nbytes);
}

/* a reply to opener a[1]'s request; a[2]: an error reply (the daemon's choice) */
static void h_body_write_reply(struct h_thread *t)
{
	struct h_message m;
	size_t nbytes = sizeof(m.oh);

	memset(&m, 0, sizeof m);
	m.oh.unique = h_unique((int)t->a[1]);
	m.oh.error = t->a[2] ? -EIO : 0;
	if (!t->a[2])
		nbytes += sizeof(struct fuse_open_out);
	t->result = h_write(h_fud[t->a[0]], &m, nbytes);
	if (t->result < 0)
		h_note_error("the reply's write() failed (no request with its unique on the fud?)", __FILE__, __LINE__);
}

/* FUSE_NOTIFY_INVAL_FILES for nodeid a[1] + 1 */
static void h_body_write_note(struct h_thread *t)
{
	struct h_message m;

	memset(&m, 0, sizeof m);
	m.oh.unique = 0;
	m.oh.error = FUSE_NOTIFY_INVAL_FILES;
	m.outarg.ino = (u64)t->a[1] + 1;
	t->result = h_write(h_fud[t->a[0]], &m, sizeof m.oh + sizeof m.outarg);
}

/* a reply to some other request the fud read */
static void h_body_write_other(struct h_thread *t)
{
	struct fuse_req *req = &h_other_req[t->id];
	struct fuse_dev *fud = h_fud[t->a[0]];
	struct h_message m;

	memset(req, 0, sizeof *req);
	req->in.h.unique = h_unique(H_MAX + t->id);
	req->args = &h_other_args[t->id];
	req->h_file = -1;
	list_add_tail(&req->list, &fud->pq.processing[fuse_req_hash(req->in.h.unique)]);
	memset(&m, 0, sizeof m);
	m.oh.unique = req->in.h.unique;
	t->result = h_write(fud, &m, sizeof m.oh);
}

/* ---- the opener: fuse_open / fuse_create_open, then fuse_finish_open -------------- */

static int h_finish_open(struct inode *inode, struct file *file)
{
	struct fuse_file *ff = file->private_data;
	struct fuse_conn *fc = get_fuse_conn(inode);
	int err = 0;

	(void)ff;
	(void)fc;
	h_point("call", "fuse_finish_open", __FILE__, __LINE__);
	/*@fragment fuse_finish_open.close_wait@*/
	return err;
}

static int h_send_open(struct fuse_mount *fm, u64 nodeid, unsigned int open_flags, int opcode,
		       struct fuse_file *ff)
{
	FUSE_ARGS(args);
	uint64_t seq = 0, *reply_seq = &seq;
	int err;

	(void)open_flags;
	args.opcode = (u32)opcode;
	args.nodeid = nodeid;
	err = fuse_simple_request(fm, &args);
	/*@fragment fuse_send_open.reply_seq@*/
	ff->open_seq = seq; /* fuse_file_open passes &ff->open_seq as reply_seq */
	return err;
}

static int h_fuse_open(int f, struct inode *inode, struct file *file)
{
	struct fuse_mount *fm = get_fuse_mount(inode);
	struct fuse_conn *fc = fm->fc;
	struct fuse_file *ff;
	int err = 0;

	if (h_presend_wait) {
		/*@fragment fuse_open.presend_wait@*/
	}
	if (err)
		return err;
	ff = h_file_alloc(f);
	if (fc->no_open) {
		h_point("call", "fuse_do_open without FUSE_OPEN", __FILE__, __LINE__);
	} else {
		err = h_send_open(fm, get_node_id(inode), file->f_flags, FUSE_OPEN, ff);
		if (err)
			return err;
	}
	return h_finish_open(inode, file);
}

static int h_create_open(int f, struct file *file)
{
	struct fuse_mount *fm = &h_mount;
	struct fuse_file *ff;
	struct inode *inode;
	struct fuse_entry_out outentry;
	FUSE_ARGS(args);
	int err;

	ff = h_file_alloc(f);
	args.opcode = FUSE_CREATE;
	err = fuse_simple_request(fm, &args);
	if (err)
		return err;
	outentry.nodeid = h_file_node[f];
	outentry.generation = 0;
	ff->nodeid = outentry.nodeid;
	/*@fragment fuse_create_open.open_seq@*/
	inode = h_iget(outentry.nodeid);
	file->f_inode = inode;
	h_file_inst[f] = h_slot_of(inode);
	return h_finish_open(inode, file);
}

static void h_opened(int f, long err)
{
	h_ret[f] = err;
	h_ret_state[f] = 1;
}

static void h_body_open(struct h_thread *t)
{
	int f = (int)t->a[0];
	struct file *file = &h_filev[f];

	file->f_inode = &h_fi[h_file_inst[f]]->inode;
	file->f_mode = FMODE_WRITE;
	t->result = h_fuse_open(f, file->f_inode, file);
	h_opened(f, t->result);
}

static void h_body_create(struct h_thread *t)
{
	int f = (int)t->a[0];

	h_filev[f].f_mode = FMODE_WRITE;
	t->result = h_create_open(f, &h_filev[f]);
	h_opened(f, t->result);
}

/* ---- the invalidation worker ---------------------------------------------------- */

static void h_body_worker(struct h_thread *t)
{
	(void)t;
	h_conn.inval_files_work.pending = 0;
	fuse_inval_files_work(&h_conn.inval_files_work);
}
