/* fusever conform: the controller's calls (ctypes), after the harness. */

/* a fresh world: the connection, its fuds, the cached instances (nodeid = model node + 1) */
void h_setup(void)
{
	int i;

	h_stop_all();
	memset(&h_conn, 0, sizeof h_conn);
	spin_lock_init(&h_conn.lock);
	init_rwsem(&h_conn.killsb);
	INIT_LIST_HEAD(&h_conn.inval_files_list);
	INIT_LIST_HEAD(&h_conn.devices);
	h_conn.close_wait = 1;
	h_conn.no_open = 0;
	h_conn.sb = &h_sb;
	h_presend_wait = 1;
	h_mount.fc = &h_conn;
	h_mount.sb = &h_sb;
	for (i = 0; i < H_MAX; i++) {
		h_fud[i] = NULL;
		h_fi[i] = NULL;
		h_cached[i] = 0;
		memset(&h_filev[i], 0, sizeof h_filev[i]);
		h_ff[i] = NULL;
		h_ret_state[i] = 0;
		h_ret[i] = 0;
		h_open_thread[i] = -1;
		h_file_fud[i] = 0;
		h_file_inst[i] = 0;
		h_file_node[i] = 0;
		memset(&h_req[i], 0, sizeof h_req[i]);
	}
	h_inode_free = NULL;
	h_hint_inst = 0;
}

void h_add_fud(int d, unsigned long long write_seq, int set_seq)
{
	h_fud[d] = h_dev_alloc();
	if (set_seq)
		h_fud[d]->write_seq = write_seq;
}

void h_add_inode(int i, int node) { h_new_inode(i, (u64)node + 1); }

/* ---- actors ------------------------------------------------------------------------- */
int h_start_write_reply(int fud, int f, int err) { return h_spawn(h_body_write_reply, fud, f, err, 0); }
int h_start_write_note(int fud, int node) { return h_spawn(h_body_write_note, fud, node, 0, 0); }
int h_start_write_other(int fud) { return h_spawn(h_body_write_other, fud, 0, 0, 0); }
int h_start_worker(void) { return h_spawn(h_body_worker, 0, 0, 0, 0); }

int h_start_open(int f, int i, int fud)
{
	h_file_inst[f] = i;
	h_file_fud[f] = fud;
	h_open_thread[f] = h_spawn(h_body_open, f, 0, 0, 0);
	return h_open_thread[f];
}

int h_start_create(int f, int fud, int node)
{
	h_file_fud[f] = fud;
	h_file_node[f] = (u64)node + 1;
	h_open_thread[f] = h_spawn(h_body_create, f, 0, 0, 0);
	return h_open_thread[f];
}

/* the model's switches, each the kernel state (or the harness's choice) it stands for */
void h_switch_close_wait(int on) { h_conn.close_wait = on ? 1 : 0; }
void h_switch_daemon_open(int on) { h_conn.no_open = on ? 0 : 1; }
void h_switch_presend_wait(int on) { h_presend_wait = on; }
void h_set_kill(int id) { h_threads[id].killed = 1; }
void h_set_fud(int f, int fud) { h_file_fud[f] = fud; }
void h_set_hint(int i) { h_hint_inst = i; }
int h_work_pending(void) { return h_conn.inval_files_work.pending; }

/* ---- the VFS's and the daemon's own steps, run by the controller -------------------- */

/* fuse_release, as far as rw_files goes: unlinked under fi->lock */
int h_call_release(int f)
{
	struct fuse_file *ff = h_ff[f];
	struct fuse_inode *fi;

	if (!ff || !h_filev[f].f_inode)
		return -1;
	fi = get_fuse_inode(h_filev[f].f_inode);
	spin_lock(&fi->lock);
	if (!list_empty(&ff->rw_entry))
		list_del_init(&ff->rw_entry);
	spin_unlock(&fi->lock);
	iput(&fi->inode);
	h_ret_state[f] = 2;
	return 0;
}

int h_call_evict(int i)
{
	if (!h_fi[i] || !h_cached[i] || h_fi[i]->inode.i_count > 0)
		return -1;
	h_cached[i] = 0;
	h_inode_release(h_fi[i]);
	h_fi[i] = NULL;
	return 0;
}

int h_call_lookup(int i, int node)
{
	h_new_inode(i, (u64)node + 1);
	return 0;
}

int h_call_new_generation(int i, int node)
{
	u64 nodeid = (u64)node + 1;
	int j;

	for (j = 0; j < H_MAX; j++)
		if (h_fi[j] && h_cached[j] && h_fi[j]->nodeid == nodeid) {
			h_cached[j] = 0;
			set_bit(FUSE_I_BAD, &h_fi[j]->state);
		}
	h_new_inode(i, nodeid);
	return 0;
}

int h_call_clone(int d)
{
	h_fud[d] = h_dev_alloc();
	return 0;
}

/* ---- what the comparison reads ---------------------------------------------------------- */
#define FUD(d) h_fud[d]
#define FF(f) h_ff[f]
#define FI(i) h_fi[i]
#define REQ(f) (&h_req[f])

int h_opener_waiting(int f)
{
	int t = h_open_thread[f];

	return t >= 0 && h_threads[t].state == H_BLOCKED && !strcmp(h_threads[t].kind, "wait")
	       && !strcmp(h_threads[t].name, "FUSE_I_INVAL_FILES");
}

/* open(2)'s return: "-" not yet, the value, or "closed" (released, or failed and freed) */
int h_open_ret_state(int f) { return h_ret_state[f]; }
long h_open_ret(int f) { return h_ret[f]; }

/*@observers@*/
