// SPDX-License-Identifier: GPL-2.0
/*
 * C shim of vproc.ko: see shim.h. Only glue lives here: no logic, no state
 * beyond what a C-only interface forces on us (a string module parameter).
 */
#include <linux/module.h>
#include <linux/moduleparam.h>
#include <linux/proc_fs.h>
#include <linux/seq_file.h>

#include "shim.h"

/* Rust module parameters are integers only: the string one lives here. */
static char *peers = "";
module_param(peers, charp, 0444);
MODULE_PARM_DESC(peers,
		 "cluster nodes: NODE@A.B.C.D:PORT[,NODE@A.B.C.D:PORT...] (NODE 1..63)");

const char *vproc_shim_peers_param(void)
{
	return peers ? peers : "";
}

struct proc_dir_entry *vproc_shim_proc_mkdir(const char *name,
					     struct proc_dir_entry *parent)
{
	return proc_mkdir(name, parent);
}

struct proc_dir_entry *vproc_shim_proc_create_single(const char *name,
						     unsigned short mode,
						     struct proc_dir_entry *parent,
						     vproc_show_fn show,
						     void *data)
{
	return proc_create_single_data(name, mode, parent, show, data);
}

void *vproc_shim_seq_private(struct seq_file *m)
{
	return m->private;
}

void vproc_shim_proc_remove(struct proc_dir_entry *pde)
{
	proc_remove(pde);
}
