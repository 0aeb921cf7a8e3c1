/* fusever conform: the kernel, reduced to what the patched fs/fuse functions touch.
 *
 * Written for fusever (not copied from Linux): each kernel type keeps only the fields
 * the extracted functions read or write, and each kernel primitive is a userspace
 * stand-in.  Lock operations, the instrumented tracked fields, the blocking waits and
 * the page-cache truncation are scheduling points of the deterministic scheduler in
 * runtime.c: the thread stops there and the harness decides who runs next.
 *
 * CONFORM_W (the model's counter width) makes the sequence fields bit-fields when it
 * is below 64, so that the C arithmetic wraps where the model's does.
 */
#ifndef CONFORM_SHIM_H
#define CONFORM_SHIM_H

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

#ifndef CONFORM_W
#define CONFORM_W 64
#endif
#if CONFORM_W < 64
#define CONFORM_SEQ(name) uint64_t name : CONFORM_W
#else
#define CONFORM_SEQ(name) uint64_t name
#endif

typedef uint64_t u64;
typedef uint32_t u32;
typedef uint16_t u16;
typedef uint8_t u8;
typedef int64_t s64;
typedef int32_t s32;
typedef unsigned int fmode_t;
typedef unsigned int gfp_t;
typedef long long loff_t_;

#define __user
#define __must_check
#define noinline
#define likely(x) __builtin_expect(!!(x), 1)
#define unlikely(x) __builtin_expect(!!(x), 0)
#define READ_ONCE(x) (x)
#define WRITE_ONCE(x, v) ((x) = (v))
#define BUG_ON(c) do { if (c) abort(); } while (0)
#define WARN_ON(c) (!!(c))
#define WARN_ON_ONCE(c) (!!(c))
#define GFP_KERNEL 0
#define GFP_NOFS 0
#define FMODE_WRITE 0x2
#define O_CREAT 0100
#define O_EXCL 0200
#define O_NOCTTY 0400
#define O_TRUNC 01000
#define O_DIRECT 040000
#define TASK_KILLABLE 1
#define TASK_UNINTERRUPTIBLE 2
#define ERESTARTSYS 512
#define min_t(t, a, b) ((t)(a) < (t)(b) ? (t)(a) : (t)(b))

#define container_of(ptr, type, member) ((type *)((char *)(ptr) - offsetof(type, member)))

/* ---- the scheduler's points (runtime.c) ------------------------------------- */
void h_point(const char *kind, const char *name, const char *file, int line);
void h_block(const char *kind, const char *name, const char *file, int line);
int h_killed(void);
void h_note_error(const char *what, const char *file, int line);

/* the instrumented plain increment of a tracked field: load, scheduling point, store */
#define CONFORM_INC(lv, name)                                  \
	({                                                     \
		uint64_t __conform_v = (lv);                   \
		h_point("store", name, __FILE__, __LINE__);    \
		(lv) = __conform_v + 1;                        \
		__conform_v;                                   \
	})
#define CONFORM_PREINC(lv, name) (CONFORM_INC(lv, name) + 1)

/* ---- lists --------------------------------------------------------------- */
struct list_head {
	struct list_head *next, *prev;
};
#define LIST_HEAD_INIT(name) { &(name), &(name) }
#define LIST_HEAD(name) struct list_head name = LIST_HEAD_INIT(name)
static inline void INIT_LIST_HEAD(struct list_head *l) { l->next = l; l->prev = l; }
static inline void __list_add(struct list_head *n, struct list_head *p, struct list_head *nx)
{
	nx->prev = n; n->next = nx; n->prev = p; p->next = n;
}
static inline void list_add(struct list_head *n, struct list_head *h) { __list_add(n, h, h->next); }
static inline void list_add_tail(struct list_head *n, struct list_head *h) { __list_add(n, h->prev, h); }
static inline void __list_del(struct list_head *p, struct list_head *n) { n->prev = p; p->next = n; }
static inline void list_del(struct list_head *e) { __list_del(e->prev, e->next); e->next = e->prev = NULL; }
static inline void list_del_init(struct list_head *e) { __list_del(e->prev, e->next); INIT_LIST_HEAD(e); }
static inline int list_empty(const struct list_head *h) { return h->next == h; }
static inline void list_move(struct list_head *e, struct list_head *h) { __list_del(e->prev, e->next); list_add(e, h); }
static inline void list_move_tail(struct list_head *e, struct list_head *h) { __list_del(e->prev, e->next); list_add_tail(e, h); }
static inline void list_splice_init(struct list_head *list, struct list_head *head)
{
	if (!list_empty(list)) {
		struct list_head *first = list->next, *last = list->prev, *at = head->next;
		first->prev = head; head->next = first; last->next = at; at->prev = last;
		INIT_LIST_HEAD(list);
	}
}
#define list_entry(ptr, type, member) container_of(ptr, type, member)
#define list_first_entry(ptr, type, member) list_entry((ptr)->next, type, member)
#define list_next_entry(pos, member) list_entry((pos)->member.next, __typeof__(*(pos)), member)
#define list_for_each_entry(pos, head, member)                                  \
	for (pos = list_first_entry(head, __typeof__(*pos), member); &pos->member != (head); \
	     pos = list_next_entry(pos, member))
#define list_for_each_entry_safe(pos, n, head, member)                          \
	for (pos = list_first_entry(head, __typeof__(*pos), member),              \
	    n = list_next_entry(pos, member); &pos->member != (head);              \
	     pos = n, n = list_next_entry(n, member))

/* ---- locks: acquiring one is a scheduling point ---------------------------- */
typedef struct { int held; } spinlock_t;
struct mutex { int held; };
struct rw_semaphore { int writer; int readers; };
void h_lock(int *held, const char *name, const char *file, int line);
void h_unlock(int *held);
#define spin_lock_init(l) ((l)->held = 0)
#define spin_lock(l) h_lock(&(l)->held, #l, __FILE__, __LINE__)
#define spin_unlock(l) h_unlock(&(l)->held)
#define mutex_init(m) ((m)->held = 0)
#define mutex_lock(m) h_lock(&(m)->held, #m, __FILE__, __LINE__)
#define mutex_unlock(m) h_unlock(&(m)->held)
#define init_rwsem(s) ((s)->writer = 0, (s)->readers = 0)
#define down_read(s) (h_point("lock", #s, __FILE__, __LINE__), (s)->readers++)
#define up_read(s) ((s)->readers--)
#define down_write(s) h_lock(&(s)->writer, #s, __FILE__, __LINE__)
#define up_write(s) h_unlock(&(s)->writer)
#define lockdep_assert_held(l) ((void)0)

/* ---- atomics and bit operations ------------------------------------------- */
typedef struct { int counter; } atomic_t;
typedef struct { s64 counter; } atomic64_t;
#define atomic_read(a) ((a)->counter)
#define atomic_set(a, v) ((a)->counter = (v))
#define atomic_inc(a) ((a)->counter++)
#define atomic_dec(a) ((a)->counter--)
#define atomic_inc_return(a) (++(a)->counter)
#define atomic_dec_and_test(a) (--(a)->counter == 0)
#define atomic64_inc_return(a) (++(a)->counter)
#define atomic64_set(a, v) ((a)->counter = (v))
static inline void set_bit(int nr, unsigned long *addr) { *addr |= 1UL << nr; }
static inline void clear_bit(int nr, unsigned long *addr) { *addr &= ~(1UL << nr); }
static inline void __set_bit(int nr, unsigned long *addr) { *addr |= 1UL << nr; }
static inline void __clear_bit(int nr, unsigned long *addr) { *addr &= ~(1UL << nr); }
static inline int h_test_bit(int nr, const unsigned long *addr, const char *name, const char *file, int line)
{
	h_point("test_bit", name, file, line);
	return (*addr >> nr) & 1;
}
/* reading a tracked bit is a scheduling point (none in the controller's own calls) */
#define test_bit(nr, addr) h_test_bit(nr, addr, #nr, __FILE__, __LINE__)
static inline int test_and_set_bit(int nr, unsigned long *addr)
{
	int old = (*addr >> nr) & 1;
	set_bit(nr, addr);
	return old;
}
static inline int test_and_clear_bit(int nr, unsigned long *addr)
{
	int old = (*addr >> nr) & 1;
	clear_bit(nr, addr);
	return old;
}
#define smp_mb__after_atomic() ((void)0)
#define smp_mb() ((void)0)
/* a waiter re-tests its condition whenever it is scheduled, so a wake-up is implicit */
#define wake_up_bit(word, bit) ((void)(word), (void)(bit))
#define wake_up(wq) ((void)(wq))
#define wake_up_all(wq) ((void)(wq))
int h_wait_on_bit(unsigned long *word, int bit, int mode, const char *name, const char *file, int line);
#define wait_on_bit(word, bit, mode) h_wait_on_bit(word, bit, mode, #bit, __FILE__, __LINE__)
typedef struct { int unused; } wait_queue_head_t;
#define init_waitqueue_head(wq) ((void)(wq))
#define wait_event(wq, cond) do { while (!(cond)) h_block("wait", #wq, __FILE__, __LINE__); } while (0)
#define wait_event_killable(wq, cond) ({ int __r = 0; while (!(cond)) { if (h_killed()) { __r = -ERESTARTSYS; break; } h_block("wait", #wq, __FILE__, __LINE__); } __r; })

/* ---- work items: the harness runs fuse_inval_files_work as its own actor --- */
struct work_struct { int pending; };
#define INIT_WORK(w, f) ((w)->pending = 0)
#define schedule_work(w) ((w)->pending = 1, 1)

/* ---- tracing and other no-ops ----------------------------------------------- */
#define fuse_ktrace(fc, fmt, ...) ((void)(fc))
#define pr_debug(...) ((void)0)
#define pr_warn(...) ((void)0)

/* ---- VFS ------------------------------------------------------------------------ */
struct address_space { int nrpages; };
struct super_block { int unused; };
struct inode {
	unsigned long i_state;
	u64 i_ino;
	unsigned int i_mode;
	long long i_size;
	int i_count;
	struct super_block *i_sb;
	struct address_space i_data;
	struct address_space *i_mapping;
};
struct file {
	struct inode *f_inode;
	void *private_data;
	fmode_t f_mode;
	unsigned int f_flags;
};
static inline struct inode *file_inode(const struct file *f) { return f->f_inode; }
void h_truncate(const char *name, const char *file, int line);
#define truncate_inode_pages(mapping, start) h_truncate("truncate_inode_pages", __FILE__, __LINE__)
#define truncate_inode_pages_final(mapping) h_truncate("truncate_inode_pages_final", __FILE__, __LINE__)
#define invalidate_inode_pages2(mapping) (h_truncate("invalidate_inode_pages2", __FILE__, __LINE__), 0)
struct inode *h_ilookup(u64 nodeid);
#define ilookup5(sb, hashval, test, data) h_ilookup(hashval)
void iput(struct inode *inode);
struct inode *igrab(struct inode *inode);

/* ---- FUSE ------------------------------------------------------------------------- */
enum {
	FUSE_I_ADVISE_RDPLUS,
	FUSE_I_INIT_RDPLUS,
	FUSE_I_SIZE_UNSTABLE,
	FUSE_I_BAD,
	FUSE_I_INVAL_FILES,
};
enum {
	FUSE_S_FAIL_IMMEDIATELY,
};
enum fuse_opcode { FUSE_LOOKUP = 1, FUSE_OPEN = 14, FUSE_OPENDIR = 27, FUSE_CREATE = 35 };
enum fuse_notify_code {
	FUSE_NOTIFY_POLL = 1,
	FUSE_NOTIFY_INVAL_INODE = 2,
	FUSE_NOTIFY_INVAL_ENTRY = 3,
	FUSE_NOTIFY_STORE = 4,
	FUSE_NOTIFY_RETRIEVE = 5,
	FUSE_NOTIFY_DELETE = 6,
	FUSE_NOTIFY_RESEND = 7,
	FUSE_NOTIFY_INVAL_FILES = 100,
	FUSE_NOTIFY_CODE_MAX,
};
/* request flags (struct fuse_req.flags) */
enum { FR_ISREPLY, FR_FORCE, FR_BACKGROUND, FR_WAITING, FR_ABORTED, FR_INTERRUPTED, FR_LOCKED,
       FR_PENDING, FR_SENT, FR_FINISHED, FR_PRIVATE, FR_ASYNC };
/* the bit of a reply's unique that marks an INTERRUPT reply */
#define FUSE_INT_REQ_BIT (1ULL << 0)
#define FUSE_PQ_HASH_BITS 8
#define FUSE_PQ_HASH_SIZE (1 << FUSE_PQ_HASH_BITS)
static inline unsigned int fuse_req_hash(u64 unique) { return (unsigned int)(unique % FUSE_PQ_HASH_SIZE); }

struct fuse_conn;
struct fuse_mount;

struct fuse_inode {
	struct inode inode;
	u64 nodeid;
	spinlock_t lock;
	unsigned long state;
	struct list_head rw_files;
	struct list_head write_files;
	struct list_head inval_files_entry;
	int i_size_unstable;
	int num_openers;
	CONFORM_SEQ(inval_files_seq);
};
struct fuse_file {
	struct fuse_mount *fm;
	spinlock_t lock;
	unsigned long ff_state;
	struct list_head rw_entry;
	struct list_head write_entry;
	u64 fh;
	u64 nodeid;
	u32 open_flags;
	struct fuse_args *args;
	CONFORM_SEQ(open_seq);
};
struct fuse_open_out {
	u64 fh;
	u32 open_flags;
};
struct fuse_out_header {
	u32 len;
	s32 error;
	u64 unique;
};
struct fuse_iqueue { int connected; };
struct fuse_args {
	u64 nodeid;
	u32 opcode;
	struct fuse_file *ff;
	struct fuse_iqueue *fiq;
	bool page_replace;
	CONFORM_SEQ(reply_seq);
};
#define FUSE_ARGS(args) struct fuse_args args = {0}
struct fuse_in_header {
	u32 len;
	u32 opcode;
	u64 unique;
	u64 nodeid;
};
struct fuse_req {
	struct list_head list;
	unsigned long flags;
	struct fuse_args *args;
	struct { struct fuse_in_header h; } in;
	struct { struct fuse_out_header h; } out;
	int done;
	int h_file;
};
struct fuse_pqueue {
	unsigned connected;
	spinlock_t lock;
	struct list_head *processing;
	struct list_head io;
};
struct fuse_dev {
	struct fuse_conn *fc;
	struct fuse_pqueue pq;
	struct list_head entry;
	CONFORM_SEQ(write_seq);
};
struct fuse_conn {
	spinlock_t lock;
	struct rw_semaphore killsb;
	unsigned int close_wait : 1;
	unsigned int no_open : 1;
	unsigned int no_interrupt : 1;
	unsigned int compat_inval_files : 1;
	unsigned int writeback_cache : 1;
	unsigned int direct_enable : 1;
	struct list_head inval_files_list;
	struct work_struct inval_files_work;
	struct list_head devices;
	struct super_block *sb;
};
struct fuse_mount {
	struct fuse_conn *fc;
	struct super_block *sb;
};
/* the daemon's write() buffer, read front to back */
struct fuse_copy_state {
	const char *buf;
	size_t len;
	size_t pos;
	int move_pages;
	struct fuse_req *req;
};
struct fuse_notify_inval_files_out {
	u64 ino;
	u64 padding;
};
struct fuse_entry_out {
	u64 nodeid;
	u64 generation;
};

static inline struct fuse_inode *get_fuse_inode(struct inode *inode)
{
	return container_of(inode, struct fuse_inode, inode);
}
extern struct fuse_mount h_mount;
static inline struct fuse_mount *get_fuse_mount(struct inode *inode) { (void)inode; return &h_mount; }
static inline struct fuse_conn *get_fuse_conn(struct inode *inode) { (void)inode; return h_mount.fc; }
static inline u64 get_node_id(struct inode *inode) { return get_fuse_inode(inode)->nodeid; }
static inline int fuse_copy_one(struct fuse_copy_state *cs, void *val, unsigned size)
{
	if (cs->pos + size > cs->len)
		return -EINVAL;
	memcpy(val, cs->buf + cs->pos, size);
	cs->pos += size;
	return 0;
}
/* the reply's payload (the fuse_open_out of an OPEN reply) is not what the model is about */
static inline int fuse_copy_out_args(struct fuse_copy_state *cs, struct fuse_args *args, unsigned nbytes)
{
	(void)args;
	cs->pos = nbytes;
	return 0;
}
static inline int copy_out_args(struct fuse_copy_state *cs, struct fuse_args *args, unsigned nbytes)
{
	return fuse_copy_out_args(cs, args, nbytes);
}
/* the request's reference count and interrupts: not in the model */
#define __fuse_get_request(req) ((void)(req))
#define fuse_put_request(req) ((void)(req))
#define queue_interrupt(fiq, req) ((void)(fiq), (void)(req), 0)
/* the other notifications of fuse_notify(): not in the model, refused */
#define fuse_notify_poll(fc, size, cs) (-EINVAL)
#define fuse_notify_inval_inode(fc, size, cs) (-EINVAL)
#define fuse_notify_inval_entry(fc, size, cs) (-EINVAL)
#define fuse_notify_store(fc, size, cs) (-EINVAL)
#define fuse_notify_retrieve(fc, size, cs) (-EINVAL)
#define fuse_notify_delete(fc, size, cs) (-EINVAL)
#define fuse_notify_resend(fc) (-EINVAL)
#define fuse_copy_finish(cs) ((void)(cs))
#define fuse_revoke_readpages(ff) ((void)(ff))
#define fuse_invalidate_attr(inode) ((void)(inode))
int fuse_inode_eq(struct inode *inode, void *nodeidp);
int fuse_simple_request(struct fuse_mount *fm, struct fuse_args *args);
void fuse_request_end(struct fuse_req *req);
int fuse_invalidate_files(struct fuse_dev *fud, u64 nodeid);
void *kmem_cache_alloc(void *cache, gfp_t flags);
void *kzalloc(size_t size, gfp_t flags);
#define kfree(p) ((void)(p))
extern void *fuse_inode_cachep;

#endif
