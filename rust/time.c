// SPDX-License-Identifier: GPL-2.0
/*
 * Clocks (rust/time.rs): monotonic nanoseconds and the wall time.
 * Glue only (see shim.h).
 */
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
