/* fusever conform: the deterministic scheduler (a baton passed between pthreads).
 *
 * Every actor of a trace (a daemon write, an opener, the invalidation worker) is a
 * pthread, but only the holder of the baton runs: the controller (the Python driver,
 * through h_run) hands it to one thread, which runs to its next scheduling point
 * (h_point) or blocks (h_block) and hands it back.  So a run is a sequence of
 * scheduling decisions, and the same decisions give the same run.
 */
#include <pthread.h>
#include <stdio.h>

#define H_THREADS 64
enum { H_NEW, H_RUNNING, H_STOPPED, H_BLOCKED, H_EXITED };

struct h_thread {
	pthread_t pt;
	int id;
	int used;
	int started;
	int state;
	int killed;
	int abort;
	const char *kind;
	const char *name;
	const char *file;
	int line;
	void (*body)(struct h_thread *);
	long a[4];
	long result;
};

static struct h_thread h_threads[H_THREADS];
static int h_nthreads;
static pthread_mutex_t h_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t h_cv = PTHREAD_COND_INITIALIZER;
static int h_baton = -1; /* -1: the controller */
static __thread struct h_thread *h_self;
static char h_error[512];

void h_note_error(const char *what, const char *file, int line)
{
	if (!h_error[0])
		snprintf(h_error, sizeof h_error, "%s (%s:%d)", what, file, line);
}

static void h_yield(int state, const char *kind, const char *name, const char *file, int line)
{
	struct h_thread *t = h_self;

	if (!t)
		return; /* the controller's own calls run straight through */
	pthread_mutex_lock(&h_mu);
	t->state = state;
	t->kind = kind;
	t->name = name;
	t->file = file;
	t->line = line;
	h_baton = -1;
	pthread_cond_broadcast(&h_cv);
	while (h_baton != t->id)
		pthread_cond_wait(&h_cv, &h_mu);
	if (t->abort) {
		t->state = H_EXITED;
		h_baton = -1;
		pthread_cond_broadcast(&h_cv);
		pthread_mutex_unlock(&h_mu);
		pthread_exit(NULL);
	}
	t->state = H_RUNNING;
	pthread_mutex_unlock(&h_mu);
}

void h_point(const char *kind, const char *name, const char *file, int line)
{
	h_yield(H_STOPPED, kind, name, file, line);
}

void h_block(const char *kind, const char *name, const char *file, int line)
{
	h_yield(H_BLOCKED, kind, name, file, line);
}

int h_killed(void)
{
	return h_self ? h_self->killed : 0;
}

void h_lock(int *held, const char *name, const char *file, int line)
{
	h_point("lock", name, file, line);
	while (*held) {
		if (!h_self) {
			h_note_error("the harness found a lock held by a stopped thread", file, line);
			break;
		}
		h_block("lock", name, file, line);
	}
	*held = 1;
}

void h_unlock(int *held)
{
	*held = 0;
}

/* as the kernel's wait_on_bit: the bit tested once; then sleep, and on every wake-up a
 * fatal signal ends the wait with -EINTR (bit_wait's check after schedule()), even if
 * the bit was cleared meanwhile; else the bit is tested again */
int h_wait_on_bit(unsigned long *word, int bit, int mode, const char *name, const char *file, int line)
{
	if (!((*word >> bit) & 1))
		return 0;
	do {
		h_block("wait", name, file, line);
		if (mode == TASK_KILLABLE && h_killed())
			return -EINTR;
	} while ((*word >> bit) & 1);
	return 0;
}

void h_truncate(const char *name, const char *file, int line)
{
	h_point("call", name, file, line);
}

static void *h_main(void *p)
{
	struct h_thread *t = p;

	h_self = t;
	pthread_mutex_lock(&h_mu);
	while (h_baton != t->id)
		pthread_cond_wait(&h_cv, &h_mu);
	if (t->abort) {
		t->state = H_EXITED;
		h_baton = -1;
		pthread_cond_broadcast(&h_cv);
		pthread_mutex_unlock(&h_mu);
		return NULL;
	}
	t->state = H_RUNNING;
	pthread_mutex_unlock(&h_mu);
	t->body(t);
	pthread_mutex_lock(&h_mu);
	t->state = H_EXITED;
	t->kind = "exit";
	t->name = "";
	h_baton = -1;
	pthread_cond_broadcast(&h_cv);
	pthread_mutex_unlock(&h_mu);
	return NULL;
}

static int h_spawn(void (*body)(struct h_thread *), long a0, long a1, long a2, long a3)
{
	struct h_thread *t;

	if (h_nthreads >= H_THREADS)
		return -1;
	t = &h_threads[h_nthreads];
	memset(t, 0, sizeof *t);
	t->id = h_nthreads++;
	t->used = 1;
	t->state = H_NEW;
	t->kind = "start";
	t->name = "";
	t->file = "";
	t->body = body;
	t->a[0] = a0;
	t->a[1] = a1;
	t->a[2] = a2;
	t->a[3] = a3;
	if (pthread_create(&t->pt, NULL, h_main, t) != 0)
		return -1;
	t->started = 1;
	return t->id;
}

/* ---- the controller's side (called through ctypes) ------------------------------ */

int h_run(int id)
{
	struct h_thread *t;

	if (id < 0 || id >= h_nthreads)
		return -1;
	t = &h_threads[id];
	if (t->state == H_EXITED)
		return H_EXITED;
	pthread_mutex_lock(&h_mu);
	h_baton = id;
	pthread_cond_broadcast(&h_cv);
	while (h_baton != -1)
		pthread_cond_wait(&h_cv, &h_mu);
	pthread_mutex_unlock(&h_mu);
	return t->state;
}

int h_state(int id) { return h_threads[id].state; }
const char *h_kind(int id) { return h_threads[id].kind; }
const char *h_name(int id) { return h_threads[id].name; }
const char *h_file(int id) { return h_threads[id].file; }
int h_line(int id) { return h_threads[id].line; }
long h_result(int id) { return h_threads[id].result; }
void h_kill(int id) { h_threads[id].killed = 1; }
const char *h_take_error(void)
{
	static char copy[512];
	memcpy(copy, h_error, sizeof copy);
	h_error[0] = 0;
	return copy;
}

/* end every thread still alive (stopped or blocked), so the next trace starts clean */
void h_stop_all(void)
{
	int i;

	for (i = 0; i < h_nthreads; i++) {
		struct h_thread *t = &h_threads[i];
		if (t->started && t->state != H_EXITED) {
			t->abort = 1;
			h_run(i);
		}
		if (t->started)
			pthread_join(t->pt, NULL);
		t->started = 0;
	}
	h_nthreads = 0;
	h_error[0] = 0;
}
