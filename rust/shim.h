/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The C side of vproc: the few kernel interfaces that have no Rust
 * abstraction in 7.3 (procfs, string module parameters), wrapped as plain
 * functions over opaque pointers.
 *
 * This header is the single source of truth for both languages: Kbuild runs
 * bindgen over it to produce rust/shim_generated.rs, so the Rust
 * declarations can never drift from the C definitions in rust/shim.c.
 * It must therefore include no kernel header.
 */
#ifndef VPROC_SHIM_H
#define VPROC_SHIM_H

struct proc_dir_entry;
struct seq_file;

/*
 * Renders one /proc file into @m, returns 0 or a negative errno; @v is the
 * seq_file iterator value (unused by single-record files). The entry's data
 * pointer is vproc_shim_seq_private(@m).
 */
typedef int (*vproc_show_fn)(struct seq_file *m, void *v);

/* The `peers=` module parameter, a NUL-terminated string ("" if unset). */
const char *vproc_shim_peers_param(void);

/* proc_mkdir(); NULL on failure (e.g. the name exists). */
struct proc_dir_entry *vproc_shim_proc_mkdir(const char *name,
					     struct proc_dir_entry *parent);

/*
 * proc_create_single_data(): a read-only seq_file entry rendered by @show,
 * with @data as vproc_shim_seq_private(m). NULL on failure. @data must
 * outlive the entry (proc_remove() waits for readers to finish).
 */
struct proc_dir_entry *vproc_shim_proc_create_single(const char *name,
						   unsigned short mode,
						   struct proc_dir_entry *parent,
						   vproc_show_fn show,
						   void *data);

/* The data pointer given when the entry of @m was created. */
void *vproc_shim_seq_private(struct seq_file *m);

/* proc_remove(): removes @pde and everything below it; NULL is a no-op. */
void vproc_shim_proc_remove(struct proc_dir_entry *pde);

#endif /* VPROC_SHIM_H */
