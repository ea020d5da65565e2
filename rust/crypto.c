// SPDX-License-Identifier: GPL-2.0
/*
 * Crypto, randomness and system facts (rust/crypto.rs): HMAC-SHA256,
 * random bytes, the load sample, CAP_SYS_ADMIN of the caller.
 * Glue only (see shim.h).
 */
#include <crypto/aead.h>
#include <crypto/aes-cbc-macs.h>
#include <crypto/blake2s.h>
#include <crypto/sha2.h>
#include <linux/scatterlist.h>
#include <linux/slab.h>
#include <linux/timekeeping.h>
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

static const char *const crypto_names[VPROC_CRYPTO_N] = {
	"hmac-sha256 (key each frame: the handshake's MAC)",
	"hmac-sha256 (prepared key)",
	"hmac-sha512 (prepared key)",
	"blake2s-256 keyed",
	"aes-256-cmac",
	"gcm(aes) aead, encrypting",
	"rfc7539(chacha20,poly1305) aead",
};

/* An AEAD of the crypto API, synchronous, encrypting @buf in place. */
static long long aead_bench(const char *alg, const u8 *key, u8 *buf,
			    size_t len, unsigned int iters)
{
	struct crypto_aead *tfm;
	struct aead_request *req;
	struct scatterlist sg;
	u8 iv[16] = { 0 };
	u64 t0 = 0;
	long long r;
	unsigned int i;

	tfm = crypto_alloc_aead(alg, 0, CRYPTO_ALG_ASYNC);
	if (IS_ERR(tfm))
		return PTR_ERR(tfm) == -ENOENT ? -ENOENT : PTR_ERR(tfm);
	r = crypto_aead_setkey(tfm, key, 32);
	if (!r)
		r = crypto_aead_setauthsize(tfm, 16);
	req = r ? NULL : aead_request_alloc(tfm, GFP_KERNEL);
	if (!r && !req)
		r = -ENOMEM;
	if (!r) {
		sg_init_one(&sg, buf, len + 16);
		aead_request_set_callback(req, 0, NULL, NULL);
		aead_request_set_ad(req, 0);
		t0 = ktime_get_ns();
		for (i = 0; i < iters && !r; i++) {
			aead_request_set_crypt(req, &sg, &sg, len, iv);
			r = crypto_aead_encrypt(req);
		}
		if (!r)
			r = ktime_get_ns() - t0;
		aead_request_free(req);
	}
	crypto_free_aead(tfm);
	return r;
}

long long vproc_shim_crypto_bench(unsigned int which, unsigned char *buf,
				  size_t len, unsigned int iters,
				  const char **name)
{
	static const u8 key[32] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12,
				    13, 14, 15, 16, 17, 18, 19, 20, 21, 22,
				    23, 24, 25, 26, 27, 28, 29, 30, 31, 32 };
	u8 out[SHA512_DIGEST_SIZE];
	unsigned int i;
	u64 t0;
	long long r = 0;

	if (which >= VPROC_CRYPTO_N)
		return -EINVAL;
	*name = crypto_names[which];
	switch (which) {
	case 0: {
		struct hmac_sha256_ctx ctx;

		t0 = ktime_get_ns();
		for (i = 0; i < iters; i++) {
			hmac_sha256_init_usingrawkey(&ctx, key, 32);
			hmac_sha256_update(&ctx, buf, len);
			hmac_sha256_final(&ctx, out);
		}
		break;
	}
	case 1: {
		struct hmac_sha256_key *k = kmalloc(sizeof(*k), GFP_KERNEL);

		if (!k)
			return -ENOMEM;
		hmac_sha256_preparekey(k, key, 32);
		t0 = ktime_get_ns();
		for (i = 0; i < iters; i++)
			hmac_sha256(k, buf, len, out);
		r = ktime_get_ns() - t0;
		kfree_sensitive(k);
		return r;
	}
	case 2: {
		struct hmac_sha512_key *k = kmalloc(sizeof(*k), GFP_KERNEL);
		struct hmac_sha512_ctx ctx;

		if (!k)
			return -ENOMEM;
		hmac_sha512_preparekey(k, key, 32);
		t0 = ktime_get_ns();
		for (i = 0; i < iters; i++) {
			hmac_sha512_init(&ctx, k);
			hmac_sha512_update(&ctx, buf, len);
			hmac_sha512_final(&ctx, out);
		}
		r = ktime_get_ns() - t0;
		kfree_sensitive(k);
		return r;
	}
	case 3:
		t0 = ktime_get_ns();
		for (i = 0; i < iters; i++)
			blake2s(key, 32, buf, len, out, BLAKE2S_HASH_SIZE);
		break;
	case 4: {
		struct aes_cmac_key *k = kmalloc(sizeof(*k), GFP_KERNEL);

		if (!k)
			return -ENOMEM;
		r = aes_cmac_preparekey(k, key, 32);
		if (!r) {
			t0 = ktime_get_ns();
			for (i = 0; i < iters; i++)
				aes_cmac(k, buf, len, out);
			r = ktime_get_ns() - t0;
		}
		kfree_sensitive(k);
		return r;
	}
	case 5:
		return aead_bench("gcm(aes)", key, buf, len, iters);
	default:
		return aead_bench("rfc7539(chacha20,poly1305)", key, buf, len,
				  iters);
	}
	return ktime_get_ns() - t0;
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
