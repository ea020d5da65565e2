// SPDX-License-Identifier: GPL-2.0
/*
 * Running code in a task (task work), starting programs, and small
 * helpers of the calling task.
 */
#include "migrate.h"

struct vproc_twork {
	struct callback_head cb;
	vproc_twork_fn fn;
	void *data;
};

static void vproc_twork_run(struct callback_head *cb)
{
	struct vproc_twork *w = container_of(cb, struct vproc_twork, cb);

	int code = w->fn(w->data);

	kfree(w);
	/* Run during the task's exit: it is exiting already. */
	if (code >= 0 && !(current->flags & PF_EXITING)) {
		/* The ref keeps this code alive until the call: see shim.h. */
		module_put(THIS_MODULE);
		do_exit(code);
	}
	module_put(THIS_MODULE);
}

int vproc_shim_task_work(struct task_struct *t, int signal, vproc_twork_fn fn,
			 void *data)
{
	struct vproc_twork *w;
	int err;

	w = kmalloc(sizeof(*w), GFP_KERNEL);
	if (!w)
		return -ENOMEM;
	w->fn = fn;
	w->data = data;
	init_task_work(&w->cb, vproc_twork_run);
	__module_get(THIS_MODULE);
	err = task_work_add(t, &w->cb, signal ? TWA_SIGNAL : TWA_RESUME);
	if (err) {
		module_put(THIS_MODULE);
		kfree(w);
		return -ESRCH;
	}
	return 0;
}

int vproc_shim_module_refs(void)
{
	return module_refcount(THIS_MODULE);
}

int vproc_shim_current_tgid(void)
{
	return task_tgid_nr(current);
}

int vproc_shim_spawn(const char *path, const char *const *argv)
{
	/* The restorer must not register an rseq area: the process's own is
	 * registered in its place. */
	static char *envp[] = { "HOME=/", "PATH=/sbin:/bin:/usr/sbin:/usr/bin",
				"GLIBC_TUNABLES=glibc.pthread.rseq=0", NULL };
	struct subprocess_info *info;

	info = call_usermodehelper_setup(path, (char **)argv, envp, GFP_KERNEL,
					 NULL, NULL, NULL);
	if (!info)
		return -ENOMEM;
	return call_usermodehelper_exec(info, UMH_WAIT_EXEC);
}

void vproc_shim_msleep(unsigned int ms)
{
	msleep(ms);
}
