#include "tun/ring.h"

#include <errno.h>
#include <liburing.h>
#include <stdbool.h>
#include <stdlib.h>
#include <sys/mman.h>

/* Linux 6.7; liburing 2.3's header predates it. */
#define OP_READ_MULTISHOT 49

#define NBUF TUN_BATCH
#define BGID 0
#define UD_READ 1
#define UD_CANCEL 2

struct tun_ring {
	struct io_uring ring;
	struct io_uring_buf_ring *br;
	uint8_t *bufs;
	size_t bufsz;
	int fd;
	int held;   /* the buffer lent to the caller, or -1 */
	bool want;  /* started, not stopped */
	bool armed; /* the multishot read is in the kernel */
	int refused; /* errno of a read the kernel refused to make again, or 0 */
	unsigned rearms, refuse_at; /* tests: the refuse_at-th is refused (tun_ring_refuse_rearm) */
};

static void give_back(struct tun_ring *r, unsigned id)
{
	io_uring_buf_ring_add(r->br, r->bufs + (size_t)id * r->bufsz, (unsigned)r->bufsz, (unsigned short)id,
	                      io_uring_buf_ring_mask(NBUF), 0);
	io_uring_buf_ring_advance(r->br, 1);
}

static int arm(struct tun_ring *r)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(&r->ring);
	if (!sqe) {
		errno = EBUSY;
		return -1;
	}
	/* Length 0: each read takes a whole buffer, i.e. one packet. */
	io_uring_prep_rw(OP_READ_MULTISHOT, sqe, r->fd, NULL, 0, 0);
	sqe->flags |= IOSQE_BUFFER_SELECT;
	sqe->buf_group = BGID;
	io_uring_sqe_set_data64(sqe, UD_READ);
	int rv = io_uring_submit(&r->ring);
	if (rv < 0) {
		errno = -rv;
		return -1;
	}
	r->armed = true;
	return 0;
}

static bool supported(struct io_uring *ring)
{
	struct io_uring_probe *p = io_uring_get_probe_ring(ring);
	bool ok = p && io_uring_opcode_supported(p, OP_READ_MULTISHOT);
	io_uring_free_probe(p);
	return ok;
}

struct tun_ring *tun_ring_open(int fd, size_t bufsz)
{
	struct tun_ring *r = calloc(1, sizeof(*r));
	if (!r)
		return NULL;
	r->fd = fd;
	r->held = -1;
	r->bufsz = bufsz;
	r->br = MAP_FAILED;
	r->bufs = MAP_FAILED;
	r->ring.ring_fd = -1;
	/* Completions are posted when the daemon next enters the kernel (no
	 * interrupt while it works), and the flag tells a peek to go and get
	 * them. Room for a completion per buffer and a few more. */
	struct io_uring_params p = {
		.flags = IORING_SETUP_COOP_TASKRUN | IORING_SETUP_TASKRUN_FLAG | IORING_SETUP_SINGLE_ISSUER |
		         IORING_SETUP_CQSIZE,
		.cq_entries = 2 * NBUF,
	};
	int rv = io_uring_queue_init_params(4, &r->ring, &p);
	if (rv < 0) {
		errno = -rv;
		goto fail;
	}
	if (!supported(&r->ring)) {
		errno = EOPNOTSUPP;
		goto fail;
	}
	size_t brsz = NBUF * sizeof(struct io_uring_buf);
	r->br = mmap(NULL, brsz, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	r->bufs = mmap(NULL, NBUF * bufsz, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (r->br == MAP_FAILED || r->bufs == MAP_FAILED)
		goto fail;
	io_uring_buf_ring_init(r->br);
	struct io_uring_buf_reg reg = {.ring_addr = (uintptr_t)r->br, .ring_entries = NBUF, .bgid = BGID};
	if ((rv = io_uring_register_buf_ring(&r->ring, &reg, 0)) < 0) {
		errno = -rv;
		goto fail;
	}
	for (unsigned i = 0; i < NBUF; i++)
		give_back(r, i);
	r->want = true;
	if (arm(r) < 0)
		goto fail;
	/* A file the kernel cannot read this way fails at once. */
	struct io_uring_cqe *cqe;
	if (io_uring_peek_cqe(&r->ring, &cqe) == 0 && cqe->res < 0 && !(cqe->flags & IORING_CQE_F_MORE)) {
		errno = -cqe->res;
		goto fail;
	}
	return r;
fail:;
	int e = errno;
	tun_ring_close(r);
	errno = e;
	return NULL;
}

void tun_ring_close(struct tun_ring *r)
{
	if (!r)
		return;
	/* The ring goes first: no read may land in a buffer after it is unmapped. */
	if (r->ring.ring_fd >= 0)
		io_uring_queue_exit(&r->ring);
	if (r->bufs != MAP_FAILED)
		munmap(r->bufs, NBUF * r->bufsz);
	if (r->br != MAP_FAILED)
		munmap(r->br, NBUF * sizeof(struct io_uring_buf));
	free(r);
}

int tun_ring_fd(const struct tun_ring *r)
{
	return r->ring.ring_fd;
}

bool tun_ring_active(const struct tun_ring *r)
{
	return r->want || r->armed;
}

/* The read made again after the kernel ended it (not at a start). */
static int rearm(struct tun_ring *r)
{
	if (r->refuse_at && ++r->rearms == r->refuse_at) {
		errno = EAGAIN; /* as the kernel may say */
		return -1;
	}
	return arm(r);
}

void tun_ring_refuse_rearm(struct tun_ring *r, unsigned nth)
{
	r->refuse_at = nth;
	r->rearms = 0;
}

int tun_ring_refused(const struct tun_ring *r)
{
	return r->refused;
}

int tun_ring_start(struct tun_ring *r)
{
	r->want = true;
	return r->armed ? 0 : arm(r);
}

void tun_ring_stop(struct tun_ring *r)
{
	if (!r->want)
		return;
	r->want = false;
	if (!r->armed)
		return;
	struct io_uring_sqe *sqe = io_uring_get_sqe(&r->ring);
	if (!sqe) { /* cannot happen (the ring has room): read on */
		r->want = true;
		return;
	}
	io_uring_prep_cancel64(sqe, UD_READ, 0);
	io_uring_sqe_set_data64(sqe, UD_CANCEL);
	if (io_uring_submit(&r->ring) < 0)
		r->want = true;
}

ssize_t tun_ring_next(struct tun_ring *r, uint8_t **buf)
{
	if (r->held >= 0) {
		give_back(r, (unsigned)r->held);
		r->held = -1;
	}
	for (;;) {
		/* Ended by the kernel (out of buffers, mostly): read on. That
		 * happens after every burst larger than the ring, and the
		 * kernel may refuse the new read then (EAGAIN, ENOMEM: short
		 * of memory for a moment). The ring holds nothing more (the
		 * read's last completion came), and the packets wait in the
		 * TUN's queue: stopped, for read(2) to take them, not an
		 * error of the TUN. */
		if (r->want && !r->armed && rearm(r) < 0) {
			r->refused = errno;
			r->want = false;
			return 0;
		}
		if (!r->armed)
			return 0; /* stopped, and all it read taken */
		struct io_uring_cqe *cqe;
		int rv = io_uring_peek_cqe(&r->ring, &cqe);
		if (rv != 0 && !r->want)
			rv = io_uring_wait_cqe(&r->ring, &cqe); /* the cancel's end comes at once */
		if (rv != 0)
			return 0;
		int res = cqe->res;
		unsigned flags = cqe->flags;
		uint64_t ud = io_uring_cqe_get_data64(cqe);
		io_uring_cqe_seen(&r->ring, cqe);
		if (ud != UD_READ)
			continue; /* the cancel's own */
		if (!(flags & IORING_CQE_F_MORE))
			r->armed = false;
		if (flags & IORING_CQE_F_BUFFER) {
			unsigned id = flags >> IORING_CQE_BUFFER_SHIFT;
			if (id >= NBUF)
				continue; /* not one of ours: cannot happen */
			if (res <= 0) {
				give_back(r, id);
				if (res == 0) { /* end of file: a TUN has none, and it would come back at once */
					errno = EPIPE;
					return -1;
				}
				continue;
			}
			r->held = (int)id;
			*buf = r->bufs + (size_t)id * r->bufsz;
			return res;
		}
		if (res == -ENOBUFS || res == -EAGAIN || res == -EINTR || res == -ECANCELED || res > 0)
			continue;
		errno = res ? -res : EPIPE;
		return -1;
	}
}
