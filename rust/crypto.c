// SPDX-License-Identifier: GPL-2.0
/*
 * Crypto, randomness and system facts (rust/crypto.rs): HMAC-SHA256,
 * random bytes, the load sample, CAP_SYS_ADMIN of the caller.
 * Glue only (see shim.h).
 */
#include <crypto/sha2.h>
#include <linux/capability.h>
#include <linux/mm.h>
#include <linux/random.h>
#include <linux/sched/loadavg.h>
#include <linux/sched/signal.h>

#include "shim.h"

void vproc_shim_hmac_sha256(const unsigned char *key,
			    const unsigned char *const *parts,
			    const size_t *lens, unsigned int n,
			    unsigned char *out)
{
	struct hmac_sha256_ctx ctx;
	unsigned int i;

	hmac_sha256_init_usingrawkey(&ctx, key, 32);
	for (i = 0; i < n; i++)
		hmac_sha256_update(&ctx, parts[i], lens[i]);
	hmac_sha256_final(&ctx, out);
}

void vproc_shim_random(void *buf, size_t len)
{
	get_random_bytes(buf, len);
}

void vproc_shim_sysload(struct vproc_sysload *out)
{
	struct task_struct *g, *t;
	struct sysinfo si;
	unsigned int running = 0, vprocs = 0;

	rcu_read_lock();
	for_each_process_thread(g, t) {
		if (task_is_running(t))
			running++;
		if (t == g && !(t->flags & PF_KTHREAD) &&
		    task_tgid_nr(t) >= (1 << VPROC_PID_NODE_SHIFT))
			vprocs++;
	}
	rcu_read_unlock();
	out->vprocs = vprocs;
	/* The sampling thread itself is running: it is not load. */
	if (running)
		running--;
	si_meminfo(&si);
	out->runnable = running;
	/* avenrun is fixed point with FSHIFT fractional bits. */
	out->loadavg = (unsigned int)((avenrun[0] * 100) >> FSHIFT);
	out->cpus = num_online_cpus();
	out->free_kib = (unsigned long long)si.freeram * si.mem_unit / 1024;
	out->total_kib = (unsigned long long)si.totalram * si.mem_unit / 1024;
}

int vproc_shim_capable_admin(void)
{
	return capable(CAP_SYS_ADMIN);
}
