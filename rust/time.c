// SPDX-License-Identifier: GPL-2.0
/*
 * Clocks (rust/time.rs): monotonic nanoseconds and the wall time.
 * Glue only (see shim.h).
 */
#include <linux/sched/task.h>
#include <linux/time_namespace.h>
#include <linux/timekeeping.h>

#include "shim.h"

unsigned long long vproc_shim_now_ns(void)
{
	return ktime_get_ns();
}

void vproc_shim_wall_time(long long *sec, unsigned int *msec)
{
	struct timespec64 ts;

	ktime_get_real_ts64(&ts);
	*sec = ts.tv_sec;
	*msec = ts.tv_nsec / NSEC_PER_MSEC;
}

unsigned long long vproc_shim_boot_ns(void)
{
	return ktime_get_boottime_ns();
}

int vproc_shim_task_clocks(struct task_struct *t, unsigned long long *mono,
			   unsigned long long *boot)
{
	struct timespec64 m = {}, b = {};
	int err = 0;

	task_lock(t);
	if (t->nsproxy) {
		m = t->nsproxy->time_ns->offsets.monotonic;
		b = t->nsproxy->time_ns->offsets.boottime;
	} else {
		err = -ESRCH;
	}
	task_unlock(t);
	*mono = ktime_get_ns() + timespec64_to_ns(&m);
	*boot = ktime_get_boottime_ns() + timespec64_to_ns(&b);
	return err;
}
