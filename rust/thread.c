// SPDX-License-Identifier: GPL-2.0
/*
 * Kernel threads (rust/thread.rs): start, stop, should-stop, sleep.
 * Glue only (see shim.h).
 */
#include <linux/delay.h>
#include <linux/kthread.h>
#include <linux/sched.h>
#include <linux/sched/task.h>

#include "shim.h"

struct task_struct *vproc_shim_kthread_run(vproc_thread_fn fn, void *data,
					   const char *name)
{
	struct task_struct *t = kthread_create(fn, data, "%s", name);

	if (IS_ERR(t))
		return NULL;
	get_task_struct(t);
	wake_up_process(t);
	return t;
}

int vproc_shim_kthread_stop(struct task_struct *t)
{
	return kthread_stop_put(t);
}

int vproc_shim_kthread_should_stop(void)
{
	return kthread_should_stop();
}

void vproc_shim_sleep_ms(unsigned int ms)
{
	set_current_state(TASK_INTERRUPTIBLE);
	if (!kthread_should_stop())
		schedule_timeout(msecs_to_jiffies(ms));
	__set_current_state(TASK_RUNNING);
}
