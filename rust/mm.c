// SPDX-License-Identifier: GPL-2.0
/*
 * Address spaces: references on a task and its mm, the areas and their
 * facts, page copies, content hashes of file mappings, and mapping,
 * unmapping and writing the calling task's memory on restore.
 */
#include <asm/unistd.h>
#include <asm/vdso.h>
#include <linux/pagewalk.h>
#include <linux/proc_fs.h>
#include <linux/shmem_fs.h>
#include "migrate.h"

struct task_struct *vproc_shim_task_get(int pid)
{
	struct task_struct *t;
	struct pid *p;

	p = vproc_get_pid(pid);
	t = p ? get_pid_task(p, PIDTYPE_TGID) : NULL;
	put_pid(p);
	return t;
}

void vproc_shim_task_put(struct task_struct *t)
{
	if (t)
		put_task_struct(t);
}

unsigned long long vproc_shim_task_exec_id(struct task_struct *t)
{
	return READ_ONCE((t ?: current)->self_exec_id);
}

int vproc_shim_task_in_execve(struct task_struct *t)
{
	/* Set by bprm_execve() around the whole exec: the mm is swapped
	 * (exec_mmap) before self_exec_id moves, and the program and the
	 * vdso are mapped after; a layout read in between is half-built.
	 * A racy read of a bit written only by @t itself: the caller reads
	 * it before and after what it reads of @t. */
	smp_rmb();
	return data_race((int)t->in_execve);
}

int vproc_shim_task_stopped(struct task_struct *t)
{
	/* Group-stopped (SIGSTOP, SIGTSTP...) or stopped by a tracer: its
	 * task work would not run until it continues. */
	return (READ_ONCE(t->signal->flags) & SIGNAL_STOP_STOPPED) ||
	       task_is_stopped_or_traced(t);
}

struct mm_struct *vproc_shim_mm_of(struct task_struct *t)
{
	return get_task_mm(t);
}

void vproc_shim_mm_put(struct mm_struct *mm)
{
	if (mm)
		mmput(mm);
}

/* The file system identity of @c (see struct vproc_mig_ident). */
static int vproc_ident_of(const struct cred *c, struct vproc_mig_ident *id)
{
	int i;

	memset(id, 0, sizeof(*id));
	if (c->group_info->ngroups > ARRAY_SIZE(id->groups))
		return -E2BIG;
	id->fsuid = from_kuid(&init_user_ns, c->fsuid);
	id->fsgid = from_kgid(&init_user_ns, c->fsgid);
	id->ngroups = c->group_info->ngroups;
	for (i = 0; i < id->ngroups; i++)
		id->groups[i] = from_kgid(&init_user_ns, c->group_info->gid[i]);
	/* Capabilities of a user namespace of its own are over that
	 * namespace's files only: none of them here. */
	if (c->user_ns != &init_user_ns)
		return 0;
	if (cap_raised(c->cap_effective, CAP_DAC_OVERRIDE))
		id->cap_fs |= 1ULL << CAP_DAC_OVERRIDE;
	if (cap_raised(c->cap_effective, CAP_DAC_READ_SEARCH))
		id->cap_fs |= 1ULL << CAP_DAC_READ_SEARCH;
	return 0;
}

/*
 * Credentials that open files as @id would: its fsuid/fsgid and groups,
 * no capability but the two DAC ones it had. A peer's values: validated.
 */
static struct cred *vproc_access_cred(const struct vproc_mig_ident *id)
{
	struct group_info *gi;
	struct cred *c;
	kuid_t u;
	kgid_t g;

	u = make_kuid(&init_user_ns, id->fsuid);
	g = make_kgid(&init_user_ns, id->fsgid);
	if (!uid_valid(u) || !gid_valid(g) ||
	    id->ngroups > ARRAY_SIZE(id->groups) ||
	    id->cap_fs & ~((1ULL << CAP_DAC_OVERRIDE) |
			   (1ULL << CAP_DAC_READ_SEARCH)))
		return ERR_PTR(-EINVAL);
	gi = vproc_groups(id->groups, id->ngroups);
	if (IS_ERR(gi))
		return ERR_CAST(gi);
	c = prepare_creds();
	if (!c) {
		put_group_info(gi);
		return ERR_PTR(-ENOMEM);
	}
	c->uid = c->euid = c->suid = c->fsuid = u;
	c->gid = c->egid = c->sgid = c->fsgid = g;
	c->cap_inheritable = CAP_EMPTY_SET;
	c->cap_permitted = CAP_EMPTY_SET;
	c->cap_ambient = CAP_EMPTY_SET;
	c->cap_effective.val = id->cap_fs;
	set_groups(c, gi);
	put_group_info(gi);
	return c;
}

/* SHA-256 of le64(size of @f) and @f's bytes in [@off, @off + @len)
 * (clipped at its end): what a mapping of that range shows. */
static int vproc_file_hash(struct file *f, u64 off, u64 len, u8 *out)
{
	loff_t size = i_size_read(file_inode(f)), pos = off, end;
	__le64 sz = cpu_to_le64(size);
	struct sha256_ctx ctx;
	size_t chunk = 64 * 1024;
	char *buf;
	int err = 0;

	if (off > LLONG_MAX || len > LLONG_MAX - off)
		return -EINVAL;
	end = min_t(loff_t, size, off + len);
	buf = kvmalloc(chunk, GFP_KERNEL);
	if (!buf)
		return -ENOMEM;
	sha256_init(&ctx);
	sha256_update(&ctx, (const u8 *)&sz, sizeof(sz));
	while (pos < end) {
		ssize_t n = kernel_read(f, buf, min_t(loff_t, chunk, end - pos),
					&pos);

		if (n <= 0) {
			err = n ? (int)n : -EIO;
			break;
		}
		sha256_update(&ctx, buf, n);
		if (fatal_signal_pending(current)) {
			err = -EINTR;
			break;
		}
		cond_resched();
	}
	sha256_final(&ctx, out);
	kvfree(buf);
	return err;
}

int vproc_shim_mig_hash_area(unsigned long long start, unsigned char *out)
{
	struct mm_struct *mm = current->mm;
	struct vm_area_struct *vma;
	struct file *f = NULL;
	u64 off = 0, len = 0;
	int err;

	if (!mm)
		return -EINVAL;
	mmap_read_lock(mm);
	vma = vma_lookup(mm, start);
	if (vma && vma->vm_file && vma->vm_start == start) {
		f = get_file(vma->vm_file);
		off = (u64)vma->vm_pgoff << PAGE_SHIFT;
		len = vma->vm_end - vma->vm_start;
	}
	mmap_read_unlock(mm);
	if (!f)
		return -ENOENT;
	err = vproc_file_hash(f, off, len, out);
	fput(f);
	return err;
}

int vproc_shim_mig_peek(struct task_struct *t, unsigned long long *vdso_lo,
			unsigned long long *vdso, char *cwd,
			struct vproc_mig_ident *ident, char *cgroup)
{
	struct vm_area_struct *vma;
	struct mm_struct *mm;
	struct path pwd;
	char *buf, *s;
	int err = 0;

	/* @t: the caller's pinned reference (sm::Task). */
	cwd[0] = 0;
	*vdso_lo = 0;
	{
		const struct cred *c = get_task_cred(t);

		err = vproc_ident_of(c, ident);
		put_cred(c);
	}
	if (!err)
		err = vproc_cgroup_path(t, cgroup, VPROC_MIG_PEEK_TEXT);
	if (err)
		return err;
	mm = get_task_mm(t);
	if (!mm)
		return -ESRCH;
	mmap_read_lock(mm);
	*vdso = (unsigned long)mm->context.vdso;
	{
		VMA_ITERATOR(vmi, mm, 0);

		for_each_vma(vmi, vma)
			if (vma_special(vma) &&
			    (!*vdso_lo || vma->vm_start < *vdso_lo))
				*vdso_lo = vma->vm_start;
	}
	mmap_read_unlock(mm);
	mmput(mm);
	buf = kmalloc(PATH_MAX, GFP_KERNEL);
	if (!buf)
		return -ENOMEM;
	task_lock(t);
	if (t->fs) {
		get_fs_pwd(t->fs, &pwd);
		task_unlock(t);
		s = d_path(&pwd, buf, PATH_MAX);
		if (!IS_ERR(s) && strlen(s) < VPROC_MIG_PEEK_TEXT)
			strscpy(cwd, s, VPROC_MIG_PEEK_TEXT);
		path_put(&pwd);
	} else {
		task_unlock(t);
	}
	kfree(buf);
	return 0;
}

/* One area as vproc_shim_mig_vmas gathers it under the mmap lock. */
struct vproc_vma_item {
	struct vproc_mig_vma v;
	struct file *file;	/* a reference, to hash it after unlocking */
};

/*
 * Whether @vma, shared anonymous memory (its file the kernel's shmem
 * "/dev/zero (deleted)"), is its process's alone: every reference to the
 * file is one of this mm's areas (an area holds one; such a file is in no
 * descriptor table, and another process gets it only by fork), and no two
 * of them map the same pages. Under the mmap lock.
 */
static bool anon_shared_sole(struct vm_area_struct *vma)
{
	struct file *f = vma->vm_file;
	unsigned long lo = vma->vm_pgoff, hi = lo + vma_pages(vma);
	struct vm_area_struct *v;
	long n = 0;
	VMA_ITERATOR(vmi, vma->vm_mm, 0);

	for_each_vma(vmi, v) {
		if (v->vm_file != f)
			continue;
		n++;
		if (v != vma && v->vm_pgoff < hi &&
		    lo < v->vm_pgoff + vma_pages(v))
			return false;
	}
	return n == (long)file_count(f);
}

/* @vma's facts, its flags as @classify decides, and for a file mapping
 * the file's identity (@buf: PATH_MAX bytes for d_path). */
static void vproc_vma_info(struct vm_area_struct *vma, struct vproc_mig_vma *v,
			   char *buf, vproc_vma_classify_fn classify)
{
	vm_flags_t f = vma->vm_flags;
	struct vproc_vma_facts fa = {
		.read = !!(f & VM_READ),
		.write = !!(f & VM_WRITE),
		.exec = !!(f & VM_EXEC),
		.shared = !!(f & VM_SHARED),
		.growsdown = !!(f & VM_GROWSDOWN),
		.special = vma_special(vma),
		.raw_memory = !!(f & (VM_IO | VM_PFNMAP | VM_MIXEDMAP |
				      VM_HUGETLB)),
		.file = !!vma->vm_file,
		.anon_vma = !!vma->anon_vma,
		.locked = !!(f & VM_LOCKED),
		.dontcopy = !!(f & VM_DONTCOPY),
		.dontdump = !!(f & VM_DONTDUMP),
		.wipeonfork = !!(f & VM_WIPEONFORK),
		.seq_read = !!(f & VM_SEQ_READ),
		.rand_read = !!(f & VM_RAND_READ),
	};
	struct inode *inode = NULL;

	memset(v, 0, sizeof(*v));
	v->start = vma->vm_start;
	v->end = vma->vm_end;
	v->pgoff = vma->vm_pgoff;
	if (vma->vm_file) {
		char *p = d_path(&vma->vm_file->f_path, buf, PATH_MAX);

		inode = file_inode(vma->vm_file);
		fa.regular = S_ISREG(inode->i_mode);
		fa.written = atomic_read(&inode->i_writecount) > 0;
		if (!IS_ERR(p) && strlen(p) < sizeof(v->path)) {
			fa.path = p;
			fa.path_len = strlen(p);
		}
		fa.anon_shared_sole = (f & VM_SHARED) && !IS_ERR(p) &&
				      !strcmp(p, "/dev/zero (deleted)") &&
				      shmem_file(vma->vm_file) &&
				      anon_shared_sole(vma);
	}
	v->flags = classify(&fa);
	if (inode && (v->flags & VPROC_VMA_FILE)) {
		struct timespec64 mt = inode_get_mtime(inode);

		v->file_size = i_size_read(inode);
		v->mtime_sec = mt.tv_sec;
		v->mtime_nsec = mt.tv_nsec;
		v->path_len = fa.path_len;
		if (fa.path_len)
			memcpy(v->path, fa.path, fa.path_len);
	}
}

int vproc_shim_mig_vmas(struct mm_struct *mm, int hash,
			vproc_vma_classify_fn classify, vproc_vma_fn fn,
			void *data)
{
	struct vproc_vma_item *it = NULL;
	struct vm_area_struct *vma;
	unsigned int n = 0, cap, i;
	char *buf;
	int err = 0;

	if (!mm)
		mm = current->mm;
	if (!mm)
		return -EINVAL;
	buf = kmalloc(PATH_MAX, GFP_KERNEL);
	if (!buf)
		return -ENOMEM;
	for (;;) {
		cap = READ_ONCE(mm->map_count) + 8;
		it = kvmalloc_array(cap, sizeof(*it), GFP_KERNEL);
		if (!it) {
			kfree(buf);
			return -ENOMEM;
		}
		mmap_read_lock(mm);
		if (mm->map_count <= cap)
			break;
		mmap_read_unlock(mm);
		kvfree(it);
	}
	{
		VMA_ITERATOR(vmi, mm, 0);

		for_each_vma(vmi, vma) {
			if (n == cap)
				break;
			vproc_vma_info(vma, &it[n].v, buf, classify);
			it[n].file = NULL;
			if (hash && vma->vm_file && !vma_special(vma) &&
			    !(it[n].v.flags & VPROC_VMA_UNSUPPORTED))
				it[n].file = get_file(vma->vm_file);
			n++;
		}
	}
	mmap_read_unlock(mm);
	/* The files are read without the mmap lock held. */
	for (i = 0; i < n; i++) {
		struct vproc_mig_vma *v = &it[i].v;

		if (it[i].file) {
			if (!err)
				err = vproc_file_hash(it[i].file,
						      v->pgoff << PAGE_SHIFT,
						      v->end - v->start,
						      v->sha256);
			fput(it[i].file);
		}
		if (!err)
			err = fn(data, v);
	}
	kvfree(it);
	kfree(buf);
	return err;
}

/*
 * Whether @folio holds a reference besides its mappings, the page and swap
 * caches and @own (references the caller holds): someone may write it
 * without a fault on this mm (a zero-copy read's or O_DIRECT's I/O in
 * flight). A folio in a per-CPU LRU batch looks so too (a few dozen at a
 * time): read again at the freeze, which is safe. Large folios are not
 * told apart: always.
 */
static bool vproc_folio_busy(struct folio *folio, int own)
{
	if (folio_test_large(folio))
		return true;
	return folio_ref_count(folio) > folio_expected_ref_count(folio) + own;
}

/*
 * Copies the anonymous page mapped at @addr of @vma to @dst under the page
 * table lock, taking no reference and not touching it: GUP marks a page
 * accessed, and the second time queues it for activation on a per-CPU
 * batch whose reference looks like an I/O's (vproc_folio_busy). 1: copied,
 * *@busy set; 0: nothing such there (a hole, the zero page, an entry not
 * present, a page cache page, a special mapping): the caller asks GUP,
 * which faults what must be, refuses what it must, and skips holes.
 */
static int vproc_walk_copy(struct vm_area_struct *vma, unsigned long addr,
			   void *dst, bool *busy)
{
	struct folio_walk fw;
	struct folio *folio;
	void *k;

	if (vma->vm_flags & (VM_IO | VM_PFNMAP | VM_SHARED) ||
	    is_vm_hugetlb_page(vma))
		return 0;
	folio = folio_walk_start(&fw, vma, addr, 0);
	if (!folio)
		return 0;
	if (!folio_test_anon(folio) || !fw.page) {
		folio_walk_end(&fw, vma);
		return 0;
	}
	*busy = vproc_folio_busy(folio, 0);
	k = kmap_local_page(fw.page);
	memcpy(dst, k, PAGE_SIZE);
	kunmap_local(k);
	folio_walk_end(&fw, vma);
	return 1;
}

int vproc_shim_mig_read_pages(struct mm_struct *mm, unsigned long addr,
			      unsigned int n, void *buf, unsigned int *present,
			      unsigned int *busy)
{
	struct vm_area_struct *vma = NULL;
	unsigned int i, out = 0;

	*present = 0;
	*busy = 0;
	if (!mm)
		mm = current->mm;
	if (n > 32 || addr & ~PAGE_MASK || !mm)
		return -EINVAL;
	mmap_read_lock(mm);
	for (i = 0; i < n; i++) {
		unsigned long a = addr + i * PAGE_SIZE;
		char *dst = (char *)buf + (size_t)out * PAGE_SIZE;
		struct page *page;
		bool b = false;
		long got;

		if (!vma || a < vma->vm_start || a >= vma->vm_end)
			vma = vma_lookup(mm, a);
		if (!vma)
			continue;	/* a hole */
		if (!vproc_walk_copy(vma, a, dst, &b)) {
			void *k;

			got = get_user_pages_remote(mm, a, 1,
						    FOLL_FORCE | FOLL_DUMP,
						    &page, NULL);
			if (got == 0 || got == -EFAULT)
				continue;	/* a hole */
			if (got < 0) {
				mmap_read_unlock(mm);
				return got;
			}
			b = vproc_folio_busy(page_folio(page), 1);
			k = kmap_local_page(page);
			memcpy(dst, k, PAGE_SIZE);
			kunmap_local(k);
			put_page(page);
		}
		if (b)
			*busy |= 1U << i;
		*present |= 1U << i;
		out++;
	}
	mmap_read_unlock(mm);
	return 0;
}

int vproc_shim_mig_soft_dirty_clear(struct mm_struct *mm)
{
	if (!mm)
		mm = current->mm;
	if (!mm)
		return -EINVAL;
	return mm_clear_soft_dirty(mm);
}

long vproc_shim_mig_pagemap(struct mm_struct *mm, unsigned long addr,
			    unsigned long n, unsigned long long *buf)
{
	BUILD_BUG_ON(sizeof(*buf) != sizeof(u64));
	if (!mm)
		mm = current->mm;
	if (!mm)
		return -EINVAL;
	return mm_pagemap_read(mm, addr, (u64 *)buf, n);
}

int vproc_shim_mig_wipe_mm(void)
{
	struct mm_struct *mm = current->mm;
	struct vm_area_struct *vma;
	unsigned long (*r)[2];
	unsigned int n = 0, cap = 0, i;
	int err = 0;

	if (!mm)
		return -EINVAL;
	mmap_read_lock(mm);
	{
		VMA_ITERATOR(vmi, mm, 0);

		for_each_vma(vmi, vma)
			cap++;
	}
	r = kvmalloc_array(cap + 1, sizeof(*r), GFP_KERNEL);
	if (!r) {
		mmap_read_unlock(mm);
		return -ENOMEM;
	}
	{
		VMA_ITERATOR(vmi, mm, 0);

		for_each_vma(vmi, vma) {
			if (n == cap)
				break;
			if (vma_special(vma))
				continue;
			r[n][0] = vma->vm_start;
			r[n][1] = vma->vm_end;
			n++;
		}
	}
	mmap_read_unlock(mm);
	for (i = 0; i < n && !err; i++)
		err = vm_munmap(r[i][0], r[i][1] - r[i][0]);
	kvfree(r);
	return err;
}

int vproc_shim_mig_place_vdso(unsigned long long lo, unsigned long long text)
{
	struct mm_struct *mm = current->mm;
	const struct vdso_image *img;
	unsigned long old_text, old_lo;
	int err;

	if (!mm || lo > text || text - lo > 64 * PAGE_SIZE ||
	    text >= TASK_SIZE || !PAGE_ALIGNED(lo) || !PAGE_ALIGNED(text))
		return -EINVAL;
	mmap_read_lock(mm);
	img = mm->context.vdso_image;
	old_text = (unsigned long)mm->context.vdso;
	mmap_read_unlock(mm);
	if (!img || !old_text || old_text < text - lo)
		return -EINVAL;
	if (old_text == text)
		return 0;
	/*
	 * The same image, so the same layout: the vvar pages as far below
	 * the text as where the process has them. Nothing else is mapped
	 * (after vproc_shim_mig_wipe_mm), and map_vdso_once() refuses while
	 * any vdso area is left.
	 */
	old_lo = old_text - (text - lo);
	err = vm_munmap(old_lo, old_text - old_lo + PAGE_ALIGN(img->size));
	if (err)
		return err;
	err = map_vdso_once(img, lo);
	if (err)
		return err;
	return (unsigned long)mm->context.vdso == text ? 0 : -EADDRINUSE;
}

static bool overlaps_special(unsigned long start, unsigned long end)
{
	struct mm_struct *mm = current->mm;
	struct vm_area_struct *vma;
	bool hit = false;

	mmap_read_lock(mm);
	{
		VMA_ITERATOR(vmi, mm, 0);

		for_each_vma(vmi, vma)
			if (vma_special(vma) && vma->vm_start < end &&
			    start < vma->vm_end)
				hit = true;
	}
	mmap_read_unlock(mm);
	return hit;
}

/*
 * The file @v maps, opened here with @id's identity, if its content is
 * the one the source mapped; NULL if not (or not there, or not readable
 * by the process).
 */
static struct file *vproc_open_same(const struct vproc_mig_vma *v,
				    const struct vproc_mig_ident *id)
{
	const struct cred *old;
	struct file *file;
	struct cred *c;
	char *path;
	u8 sum[SHA256_DIGEST_SIZE];

	if (!v->path_len || v->path_len >= sizeof(v->path) ||
	    memchr(v->path, 0, v->path_len))
		return NULL;
	path = kmalloc(v->path_len + 1, GFP_KERNEL);
	if (!path)
		return NULL;
	memcpy(path, v->path, v->path_len);
	path[v->path_len] = 0;
	c = vproc_access_cred(id);
	if (IS_ERR(c)) {
		kfree(path);
		return NULL;
	}
	old = override_creds(c);
	file = filp_open(path, O_RDONLY | O_LARGEFILE, 0);
	if (!IS_ERR(file) &&
	    (!S_ISREG(file_inode(file)->i_mode) ||
	     vproc_file_hash(file, v->pgoff << PAGE_SHIFT, v->end - v->start,
			     sum) ||
	     memcmp(sum, v->sha256, sizeof(sum)))) {
		fput(file);
		file = ERR_PTR(-ESTALE);
	}
	revert_creds(old);
	put_cred(c);
	kfree(path);
	return IS_ERR(file) ? NULL : file;
}

/*
 * The advice and locking area @v had (madvise(2), mlock(2) in current's
 * context, with their checks): an area of a process that fails them is
 * unmapped (the move fails, the process runs on where it was).
 */
static int vproc_area_advice(const struct vproc_mig_vma *v)
{
	static const struct {
		unsigned int bit;
		int advice;
	} adv[] = {
		{ VPROC_VMA_DONTCOPY, MADV_DONTFORK },
		{ VPROC_VMA_DONTDUMP, MADV_DONTDUMP },
		{ VPROC_VMA_WIPEONFORK, MADV_WIPEONFORK },
		{ VPROC_VMA_SEQ_READ, MADV_SEQUENTIAL },
		{ VPROC_VMA_RAND_READ, MADV_RANDOM },
	};
	unsigned long long a[6] = { v->start, v->end - v->start };
	long long r = 0;
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(adv) && r >= 0; i++) {
		if (!(v->flags & adv[i].bit))
			continue;
		a[2] = adv[i].advice;
		r = vproc_shim_sys_call(__NR_madvise, a, NULL, 0);
	}
	if (r >= 0 && (v->flags & VPROC_VMA_LOCKED))
		r = vproc_shim_sys_call(__NR_mlock, a, NULL, 0);
	if (r < 0) {
		pr_info_ratelimited("vproc: the advice or lock of area %llx-%llx cannot be set: %lld\n",
				    v->start, v->end, r);
		vm_munmap(v->start, v->end - v->start);
		return (int)r;
	}
	return 0;
}

int vproc_shim_mig_map(const struct vproc_mig_vma *v, int anon_instead,
		       const struct vproc_mig_ident *id)
{
	unsigned long prot = 0, flags = MAP_FIXED, len, a;
	struct file *file = NULL;

	if (v->start >= v->end || v->end > TASK_SIZE ||
	    (v->start | v->end) & ~PAGE_MASK ||
	    v->flags & (VPROC_VMA_SPECIAL | VPROC_VMA_UNSUPPORTED) ||
	    v->path_len >= sizeof(v->path))
		return -EINVAL;
	if (!current->mm || overlaps_special(v->start, v->end))
		return -EINVAL;
	len = v->end - v->start;
	if (v->flags & VPROC_VMA_READ)
		prot |= PROT_READ;
	if (v->flags & VPROC_VMA_WRITE)
		prot |= PROT_WRITE;
	if (v->flags & VPROC_VMA_EXEC)
		prot |= PROT_EXEC;
	flags |= (v->flags & VPROC_VMA_SHARED) ? MAP_SHARED : MAP_PRIVATE;
	if (v->flags & VPROC_VMA_GROWSDOWN)
		flags |= MAP_GROWSDOWN;
	if (v->flags & VPROC_VMA_FILE) {
		if (v->pgoff > (ULONG_MAX >> PAGE_SHIFT))
			return -EINVAL;
		/* Never the file a path names here on trust: only one the
		 * process may open, with the bytes it mapped at home. */
		file = vproc_open_same(v, id);
		if (!file && (!anon_instead || (v->flags & VPROC_VMA_SHARED)))
			return -ESTALE;
	}
	if (!file)
		flags |= MAP_ANONYMOUS;
	a = vm_mmap(file, v->start, len, prot, flags,
		    file ? v->pgoff << PAGE_SHIFT : 0);
	if (file)
		fput(file);
	if (IS_ERR_VALUE(a))
		return (int)a;
	if (a != v->start) {
		vm_munmap(a, len);
		return -EINVAL;
	}
	return vproc_area_advice(v);
}

int vproc_shim_mig_unmap(unsigned long addr, unsigned long len)
{
	if ((addr | len) & ~PAGE_MASK || !len || addr >= TASK_SIZE ||
	    len > TASK_SIZE - addr || !current->mm ||
	    overlaps_special(addr, addr + len))
		return -EINVAL;
	return vm_munmap(addr, len);
}

int vproc_shim_mig_write(unsigned long addr, const void *buf, size_t len)
{
	if (addr >= TASK_SIZE || len > TASK_SIZE - addr || len > INT_MAX)
		return -EINVAL;
	if (!copy_to_user((void __user *)addr, buf, len))
		return 0;
	/* Read-only or not yet writable: as ptrace's POKE does. */
	if (access_process_vm(current, addr, (void *)buf, len,
			      FOLL_FORCE | FOLL_WRITE) != len) {
		struct vm_area_struct *vma;
		unsigned long start = 0, end = 0, flags = 0;

		mmap_read_lock(current->mm);
		vma = find_vma(current->mm, addr);
		if (vma) {
			start = vma->vm_start;
			end = vma->vm_end;
			flags = vma->vm_flags;
		}
		mmap_read_unlock(current->mm);
		pr_info_ratelimited("vproc: pid %d: page %#lx cannot be written here (area %#lx-%#lx flags %#lx)\n",
				    current->tgid, addr, start, end, flags);
		return -EFAULT;
	}
	return 0;
}
