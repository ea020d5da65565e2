// SPDX-License-Identifier: GPL-2.0
/*
 * The module's string parameters (rust/param.rs): the peers, the cluster
 * name and the cluster key, which is wiped once read.
 * Glue only (see shim.h).
 */
#include <linux/module.h>
#include <linux/moduleparam.h>
#include <linux/kstrtox.h>
#include <linux/string.h>

#include "shim.h"
#include "migrate.h"

static char *peers = "";
module_param(peers, charp, 0444);
MODULE_PARM_DESC(peers,
		 "cluster nodes: NODE@A.B.C.D:PORT[,NODE@A.B.C.D:PORT...] (NODE 1..63)");

/*
 * The cluster's name, the public half of the key derivation (the HKDF salt,
 * see src/logic/key.rs); readable in sysfs, it is no secret.
 */
static char *cluster = "";
module_param(cluster, charp, 0444);
MODULE_PARM_DESC(cluster,
		 "cluster name, the same on every node of one cluster (default vproc)");

/*
 * Permission 0: the key never appears under /sys/module/vproc/parameters.
 * param_set_charp() kmalloc()s this copy of the value; the module wipes it
 * once it has derived its key (vproc_shim_wipe_key_param()), and the kernel
 * kfree()s it at unload. The argument string insmod passed is another copy:
 * 7.3's load_module() parses it from a buffer of its own and kfree()s that
 * before our init runs (struct module keeps no `args` any more), so no
 * module can reach it; it lives only in freed memory and in insmod's argv.
 */
static char *key = "";
module_param(key, charp, 0);
MODULE_PARM_DESC(key, "cluster key: 32..128 hex digits (see `cluster key new`)");

/*
 * Fault injection for the tests (0: off, the default): a move pauses this
 * long, at most 5 s, between the destination's Commit answer and its
 * deputy and Go. Writable by root at run time in
 * /sys/module/vproc/parameters/.
 */
static unsigned int fault_go_delay_ms;
module_param(fault_go_delay_ms, uint, 0644);
MODULE_PARM_DESC(fault_go_delay_ms,
		 "tests only: pause between Commit and Go of a move (ms, at most 5000)");

unsigned int vproc_shim_fault_go_delay_ms(void)
{
	return min(READ_ONCE(fault_go_delay_ms), 5000U);
}

/*
 * Fault injection for the tests (0: off, the default): a call a deputy
 * makes at home for its process, with its buffers mapped in the deputy's
 * memory, pauses this long there, at most 10 s (what a call that sleeps
 * there, or is preempted, does): a deputy remapping that memory for its
 * process coming home meanwhile must leave them alone, and gives up the
 * move home after 5 s of waiting for them.
 */
static unsigned int fault_call_delay_ms;
module_param(fault_call_delay_ms, uint, 0644);
MODULE_PARM_DESC(fault_call_delay_ms,
		 "tests only: pause of a call made at home with its buffers mapped (ms, at most 10000)");

unsigned int vproc_shim_fault_call_delay_ms(void)
{
	return min(READ_ONCE(fault_call_delay_ms), 10000U);
}

/*
 * Iterative pre-copy (issue 18): after the first pass over a process's
 * memory, up to this many rounds resend what it wrote meanwhile
 * (logic::mig::another_round says when they stop); 0: the first pass
 * only. Writable by root at run time (`make bench` compares both).
 */
static unsigned int precopy_rounds = 8;
#define VPROC_MAX_ROUNDS 16U

/* 0..16, as logic::mig::MAX_ROUNDS: anything else fails with EINVAL and
 * leaves the value as it was (a number the reader would see but the
 * module would not use is refused, not clamped). */
static int precopy_rounds_set(const char *val, const struct kernel_param *kp)
{
	unsigned int n;
	int err = kstrtouint(val, 0, &n);

	if (err)
		return err;
	if (n > VPROC_MAX_ROUNDS) {
		pr_info("vproc: precopy_rounds %u refused: at most %u\n", n,
			VPROC_MAX_ROUNDS);
		return -EINVAL;
	}
	WRITE_ONCE(precopy_rounds, n);
	return 0;
}

static const struct kernel_param_ops precopy_rounds_ops = {
	.set = precopy_rounds_set,
	.get = param_get_uint,
};
module_param_cb(precopy_rounds, &precopy_rounds_ops, &precopy_rounds, 0644);
MODULE_PARM_DESC(precopy_rounds,
		 "pre-copy rounds after the first pass (0..16, default 8)");

unsigned int vproc_shim_precopy_rounds(void)
{
	return min(READ_ONCE(precopy_rounds), VPROC_MAX_ROUNDS);
}

/*
 * Post-copy (issue 18, src/migrate/lazy.rs): a freeze that would send at
 * least 4 MiB written since pre-copy leaves those pages for after Go
 * (1), or sends them (0). Writable by root at run time.
 */
static bool postcopy = true;
module_param(postcopy, bool, 0644);
MODULE_PARM_DESC(postcopy,
		 "leave pages written during pre-copy for after the move (default 1)");

int vproc_shim_postcopy(void)
{
	return READ_ONCE(postcopy);
}

const char *vproc_shim_peers_param(void)
{
	return peers ? peers : "";
}

const char *vproc_shim_cluster_param(void)
{
	return cluster ? cluster : "";
}

const char *vproc_shim_key_param(void)
{
	return key ? key : "";
}

void vproc_shim_wipe_key_param(void)
{
	if (key && key[0])
		memzero_explicit(key, strlen(key));
}
