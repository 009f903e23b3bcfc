/* A hostile bare-metal guest (issue 12): entered by mmvm in 64-bit mode
 * like a Linux kernel (RSI = zero page, 0-4 GiB identity mapped,
 * interrupts off, which they stay), it attacks every virtio-mmio window
 * for hostile.iters=N rounds (seeded by hostile.seed=S; hostile.spin=M
 * then idles M port reads long) with random and
 * crafted register accesses, queue set-ups, descriptor chains, doorbells,
 * MSI commands and config writes, then prints
 *   MMVM-HOSTILE done iters=N devices=D accesses=A
 * on COM1 and asks for a reset through the ACPI reset register (port
 * 0x602; mmvm exits 0, "guest rebooted (ACPI reset register)").
 *
 * hostile.trickle=1|2 (issue 26) instead sets up the first virtio-blk
 * device's queue 0 properly, teaches its poll window with requests and
 * doorbells back to back, then for hostile.trickle_ms (default 10000)
 * adds one chain every ~900 us (timed on the PIT): 1, junk (an empty
 * chain, then one outside RAM, in turn) and never a doorbell; 2, a valid
 * request (a FLUSH) with a doorbell only when the device asks for one.
 * Between "MMVM-TRICKLE begin" and "MMVM-TRICKLE end ..." the blk
 * worker may spin only as long as mmvm's poll budget allows.
 *
 * hostile.storm=1 (issue 26) instead sets up the first virtio-net
 * device's control queue (two pairs: VERSION_1, CTRL_VQ, MQ) and for
 * hostile.storm_ms (default 5000) sends VQ_PAIRS_SET in batches of three
 * (2, 1, 2 then 1, 2, 1 ...: each batch flips the count it ends with),
 * one kick per batch, waiting for the acks; then prints
 * "MMVM-STORM end batches=B commands=C ok=K us=T". mmvm may attach and
 * detach the tap's queues only as often as its limit allows.
 *
 * Everything the devices may write (used rings, blk reads, rng output)
 * is pointed at the scratch region from 16 MiB up, outside guest RAM, or
 * at the MMIO windows, never at this code (1-2 MiB): the point is to hurt
 * the host, not ourselves. Built freestanding (Makefile: hostile). */
#include <stdint.h>

#define COM1		0x3f8
#define ACPI_RESET	0x602
#define MMIO_BASE	0xd0000000ULL
#define MMIO_SLOT	0x2000ULL
#define MMIO_SLOTS	16
#define SCRATCH		0x1000000ULL	/* 16 MiB */
#define MSI_BASE	0xfee00000u

static uint64_t rng_state = 0x9e3779b97f4a7c15ULL;
static uint64_t accesses;
static uint64_t ram_end = 64ULL << 20;	/* from e820 below */
static uint64_t windows[MMIO_SLOTS];
static unsigned int nwin;

static inline void outb(uint16_t port, uint8_t v)
{
	__asm__ volatile("outb %0, %1" : : "a"(v), "Nd"(port));
}

static void puts_com1(const char *s)
{
	while (*s)
		outb(COM1, (uint8_t)*s++);
}

static void put_dec(uint64_t v)
{
	char buf[24];
	int i = 0;

	do {
		buf[i++] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	while (i)
		outb(COM1, (uint8_t)buf[--i]);
}

static uint64_t rnd(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

static uint64_t below(uint64_t n)
{
	return n ? rnd() % n : 0;
}

/* A value a device should find interesting. */
static uint64_t nasty(void)
{
	static const uint64_t v[] = {
		0, 1, 2, 3, 4, 0x7f, 0x80, 0xff, 0x100, 0x7fff, 0x8000, 0xffff,
		0x10000, 0x7fffffff, 0x80000000, 0xffffffff, ~0ULL, 0x40,
		0x0f, 0xfee00000, 0xfec00000, 0xd0000000,
	};

	return below(3) ? v[below(sizeof(v) / sizeof(v[0]))] : rnd();
}

static void mmio_write(uint64_t addr, uint64_t val, unsigned int width)
{
	accesses++;
	switch (width) {
	case 1: *(volatile uint8_t *)addr = (uint8_t)val; break;
	case 2: *(volatile uint16_t *)addr = (uint16_t)val; break;
	case 8: *(volatile uint64_t *)addr = val; break;
	default: *(volatile uint32_t *)addr = (uint32_t)val; break;
	}
}

static uint64_t mmio_read(uint64_t addr, unsigned int width)
{
	accesses++;
	switch (width) {
	case 1: return *(volatile uint8_t *)addr;
	case 2: return *(volatile uint16_t *)addr;
	case 8: return *(volatile uint64_t *)addr;
	default: return *(volatile uint32_t *)addr;
	}
}

static void w32(uint64_t win, uint64_t off, uint32_t v)
{
	mmio_write(win + off, v, 4);
}

static uint32_t r32(uint64_t win, uint64_t off)
{
	return (uint32_t)mmio_read(win + off, 4);
}

/* A guest-physical address for a ring or buffer: mostly the scratch
 * region, sometimes the worst places there are. */
static uint64_t ring_addr(void)
{
	switch (below(8)) {
	case 0: return ram_end - 8 - below(64);		/* straddles the end */
	case 1: return ram_end + below(1ULL << 30);	/* outside RAM */
	case 2: return MMIO_BASE + below(MMIO_SLOTS * MMIO_SLOT); /* MMIO */
	case 3: return 0xfffffffffffff000ULL;		/* wraps */
	case 4: return SCRATCH + below(16) * 0x1000 + 1; /* misaligned */
	default: return SCRATCH + below(256) * 0x1000;
	}
}

/* Fills scratch page p with descriptors of every bad kind: loops, huge
 * lengths, chains that leave the table, self-referencing indirect
 * tables, pointing at the scratch region or nowhere. */
static void poison_descriptors(uint64_t table, unsigned int n)
{
	volatile uint64_t *d = (volatile uint64_t *)table;

	for (unsigned int i = 0; i < n; i++) {
		uint64_t addr = below(4) ? SCRATCH + below(1 << 20) : nasty();

		/* Low RAM holds our page tables, GDT and code: a device
		 * writing there would hurt us, not the host. */
		if (addr < SCRATCH)
			addr += SCRATCH;
		uint32_t len = below(3) ? (uint32_t)below(8192) :
			       (uint32_t)nasty();
		uint16_t flags = (uint16_t)below(8);	/* NEXT|WRITE|INDIRECT */
		uint16_t next = below(4) ? (uint16_t)i : (uint16_t)below(n + 4);

		if (flags & 4 && below(2))
			addr = table;		/* indirect table = itself */
		d[2 * i] = addr;
		d[2 * i + 1] = len | (uint64_t)flags << 32 |
			       (uint64_t)next << 48;
	}
}

static void poison_rings(uint64_t avail, uint64_t used, unsigned int n)
{
	volatile uint16_t *a = (volatile uint16_t *)avail;

	a[0] = (uint16_t)below(4);			/* flags */
	a[1] = (uint16_t)(below(2) ? below(n * 3) : nasty());	/* idx */
	for (unsigned int i = 0; i < n; i++)
		a[2 + i] = (uint16_t)(below(4) ? below(n) : nasty());
	((volatile uint16_t *)used)[1] = (uint16_t)nasty();
}

static void random_access(uint64_t win)
{
	static const unsigned int widths[] = { 1, 2, 4, 8 };
	unsigned int width = widths[below(4)];
	uint64_t off = below(2) ? below(0x100) & ~3ULL : below(MMIO_SLOT + 64);

	if (below(2))
		mmio_write(win + off, nasty(), width);
	else
		(void)mmio_read(win + off, width);
}

static void status_dance(uint64_t win)
{
	static const uint32_t order[] = { 1, 2, 8, 4, 0x40, 0x80 };

	for (unsigned int i = 0, n = 1 + (unsigned int)below(6); i < n; i++)
		w32(win, 0x070, below(3) ? r32(win, 0x070) | order[below(6)] :
			       (uint32_t)nasty());
}

/* A plausible init with a twist somewhere: every queue placed somewhere
 * random, poisoned rings, DRIVER_OK, notifications on every index. */
static void queue_attack(uint64_t win)
{
	unsigned int nq = 1 + (unsigned int)below(4);

	w32(win, 0x070, 0);
	w32(win, 0x070, 1);
	w32(win, 0x070, 3);
	w32(win, 0x024, 0);
	w32(win, 0x020, below(4) ? 0x30000000u | (uint32_t)below(1 << 24) :
			 (uint32_t)nasty());
	w32(win, 0x024, 1);
	w32(win, 0x020, below(4) ? 0x3001u : (uint32_t)nasty());	/* 32,44,45 */
	w32(win, 0x070, 0xb);
	for (unsigned int q = 0; q < nq; q++) {
		uint64_t desc = ring_addr(), avail = ring_addr(),
			 used = ring_addr();
		unsigned int size = below(4) ? 1u << below(9) :
				    (unsigned int)nasty();

		/* (Written as "below the end minus the size": the wrapping
		 * address must not pass as small.) */
		if (desc >= SCRATCH && desc < ram_end - 16 * 256)
			poison_descriptors(desc & ~15ULL, size < 256 ? size : 256);
		if (avail >= SCRATCH && avail < ram_end - 4096 &&
		    used >= SCRATCH && used < ram_end - 4096)
			poison_rings(avail & ~1ULL, used & ~3ULL,
				     size < 256 ? size : 256);
		w32(win, 0x030, below(8) ? q : (uint32_t)nasty());
		w32(win, 0x038, size);
		w32(win, 0x080, (uint32_t)desc);
		w32(win, 0x084, (uint32_t)(desc >> 32));
		w32(win, 0x090, (uint32_t)avail);
		w32(win, 0x094, (uint32_t)(avail >> 32));
		w32(win, 0x0a0, (uint32_t)used);
		w32(win, 0x0a4, (uint32_t)(used >> 32));
		w32(win, 0x044, below(8) ? 1 : (uint32_t)nasty());
	}
	w32(win, 0x070, below(8) ? 0xf : (uint32_t)nasty());
	for (unsigned int i = 0; i < 8; i++)
		w32(win, 0x050, i);
}

static void doorbells(uint64_t win)
{
	for (uint64_t off = 0x1000; off < 0x1200; off += 4)
		w32(win, off, (uint32_t)nasty());
}

/* MSI commands in both layouts: the feature-bit layout's page 1 and the
 * 2019 layout's 0x0c0 block (one of them is a no-op on each device). */
static void msi_attack(uint64_t win)
{
	uint32_t addr = below(2) ? MSI_BASE | (uint32_t)(below(256) << 12) :
			(uint32_t)nasty();
	uint32_t data = (uint32_t)(below(2) ? (below(8) << 8) | below(256) :
				   nasty());
	uint32_t cmd = (uint32_t)(below(5) << 12 | below(24));

	w32(win, 0x1008, addr);
	w32(win, 0x100c, below(8) ? 0 : (uint32_t)nasty());
	w32(win, 0x1010, data);
	w32(win, 0x1004, below(8) ? cmd : (uint32_t)nasty());
	if (!below(4))
		w32(win, 0x1000, below(2) ? 0x8000 : 0);
	(void)r32(win, 0x1014);
	w32(win, 0x0c4, addr);
	w32(win, 0x0c8, 0);
	w32(win, 0x0cc, data);
	mmio_write(win + 0x0c2, cmd, 2);
	if (!below(4))
		mmio_write(win + 0x0c0, below(2) ? 0x8000 : 0, 2);
}

static void config_and_acks(uint64_t win)
{
	for (unsigned int i = 0; i < 16; i++)
		mmio_write(win + 0x100 + below(0x40), nasty(),
			   1u << below(3));
	for (unsigned int i = 0; i < 32; i++) {
		(void)r32(win, 0x060);
		w32(win, 0x064, ~0u);
	}
}

static void find_windows(void)
{
	for (unsigned int i = 0; i < MMIO_SLOTS; i++) {
		uint64_t win = MMIO_BASE + i * MMIO_SLOT;

		if (r32(win, 0x000) == 0x74726976)	/* "virt" */
			windows[nwin++] = win;
	}
}

/* RAM below 4 GiB from the zero page's e820 table. */
static void find_ram_end(const uint8_t *zp)
{
	unsigned int n = zp[0x1e8];

	for (unsigned int i = 0; i < n && i < 128; i++) {
		const uint8_t *e = zp + 0x2d0 + 20 * i;
		uint64_t addr = *(const uint64_t *)e;
		uint64_t size = *(const uint64_t *)(e + 8);
		uint32_t type = *(const uint32_t *)(e + 16);

		if (type == 1 && addr + size <= (1ULL << 32) &&
		    addr + size > SCRATCH)
			ram_end = addr + size;
	}
}

/* "key=N" in the command line, or def. */
static uint64_t param(const char *cmdline, const char *key, uint64_t def)
{
	for (const char *p = cmdline; p && *p; p++) {
		const char *k = key, *q = p;

		while (*k && *q == *k) {
			k++;
			q++;
		}
		if (*k || *q != '=' || (p != cmdline && p[-1] != ' '))
			continue;
		uint64_t v = 0;

		for (q++; *q >= '0' && *q <= '9'; q++)
			v = v * 10 + (uint64_t)(*q - '0');
		return v;
	}
	return def;
}

/* ---- hostile.trickle: chains without doorbells (issue 26) ---- */

#define PIT_HZ		1193182u
#define TQ_SIZE		16
#define TQ_DESC		(SCRATCH + 0x200000)
#define TQ_AVAIL	(TQ_DESC + 0x1000)
#define TQ_USED		(TQ_DESC + 0x2000)
#define TQ_BUFS		(TQ_DESC + 0x3000)	/* 8 x (hdr 16, status 1) */

static inline uint8_t inb(uint16_t port)
{
	uint8_t v;

	__asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}

static uint16_t pit_last;
static uint64_t pit_total;	/* PIT ticks since pit_start() */

/* Channel 0 as a free-running 16-bit down-counter (mode 2, reload
 * 65536): KVM's in-kernel PIT counts host time, whatever our vCPU's
 * speed. Read at least every 55 ms so it cannot wrap unseen. */
static void pit_start(void)
{
	outb(0x43, 0x34);
	outb(0x40, 0);
	outb(0x40, 0);
	outb(0x43, 0x00);
	pit_last = (uint16_t)(inb(0x40) | inb(0x40) << 8);
	pit_total = 0;
}

static uint64_t pit_us(void)
{
	uint16_t now;

	outb(0x43, 0x00);			/* latch channel 0 */
	now = (uint16_t)(inb(0x40) | inb(0x40) << 8);
	pit_total += (uint16_t)(pit_last - now);
	pit_last = now;
	return pit_total * 1000000 / PIT_HZ;
}

static void pit_wait_until(uint64_t us)
{
	while (pit_us() < us)
		__asm__ volatile("pause");
}

struct trickle_q {
	uint64_t win;
	uint16_t posted;
};

static volatile uint64_t *tq_desc(unsigned int i)
{
	return (volatile uint64_t *)(TQ_DESC + 16 * i);
}

static void tq_set_desc(unsigned int i, uint64_t addr, uint32_t len,
			uint16_t flags, uint16_t next)
{
	tq_desc(i)[0] = addr;
	tq_desc(i)[1] = len | (uint64_t)flags << 32 | (uint64_t)next << 48;
}

static uint16_t tq_used_idx(void)
{
	return ((volatile uint16_t *)TQ_USED)[1];
}

/* Does the device want a doorbell (no EVENT_IDX: used->flags)? */
static int tq_wants_kick(void)
{
	return !(((volatile uint16_t *)TQ_USED)[0] & 1);
}

static void tq_publish(struct trickle_q *t, uint16_t head)
{
	volatile uint16_t *avail = (volatile uint16_t *)TQ_AVAIL;

	avail[2 + t->posted % TQ_SIZE] = head;
	__asm__ volatile("" ::: "memory");
	avail[1] = ++t->posted;
}

/* A FLUSH in descriptors 2k, 2k+1 (k: posted % 8): the header, then the
 * status byte. Work for polling (a request that moves nothing, such as
 * GET_ID, is not), and it writes only that byte of guest memory: with
 * 512-byte reads instead, 2 of the 3 runs of one suite had the nested
 * harness wedge or reset this guest (cause not established; GET_ID,
 * writing 21 bytes, never did). */
static void tq_post_request(struct trickle_q *t)
{
	unsigned int k = t->posted % 8, d = 2 * k;
	uint64_t buf = TQ_BUFS + 64 * k;
	volatile uint32_t *hdr = (volatile uint32_t *)buf;

	hdr[0] = 4;			/* VIRTIO_BLK_T_FLUSH */
	hdr[1] = 0;
	hdr[2] = hdr[3] = 0;
	tq_set_desc(d, buf, 16, 1, (uint16_t)(d + 1));	/* NEXT */
	tq_set_desc(d + 1, buf + 16, 1, 2, 0);		/* WRITE */
	tq_publish(t, (uint16_t)d);
}

/* Junk in descriptor 2k: an empty chain (a zero-length buffer, nothing
 * to answer into), or, in turn, one whose buffer is outside RAM. */
static void tq_post_junk(struct trickle_q *t)
{
	unsigned int k = t->posted % 8, d = 2 * k;

	if (t->posted % 2)
		tq_set_desc(d, TQ_BUFS + 64 * k, 0, 0, 0);
	else
		tq_set_desc(d, ram_end + (1ULL << 30), 16, 2, 0);
	tq_publish(t, (uint16_t)d);
}

static void tq_kick(struct trickle_q *t)
{
	w32(t->win, 0x050, 0);
}

/* The driver's side of initialisation for queue 0 only (VERSION_1, no
 * other feature). 0 if the device refused. */
static int tq_setup(struct trickle_q *t)
{
	volatile uint8_t *z = (volatile uint8_t *)TQ_DESC;

	for (unsigned int i = 0; i < 0x3000; i++)
		z[i] = 0;
	w32(t->win, 0x070, 0);
	w32(t->win, 0x070, 1);
	w32(t->win, 0x070, 3);
	w32(t->win, 0x024, 1);
	w32(t->win, 0x020, 1);		/* VERSION_1 */
	w32(t->win, 0x024, 0);
	w32(t->win, 0x020, 0);
	w32(t->win, 0x070, 0xb);
	if (!(r32(t->win, 0x070) & 8))
		return 0;
	w32(t->win, 0x030, 0);
	w32(t->win, 0x038, TQ_SIZE);
	w32(t->win, 0x080, (uint32_t)TQ_DESC);
	w32(t->win, 0x084, 0);
	w32(t->win, 0x090, (uint32_t)TQ_AVAIL);
	w32(t->win, 0x094, 0);
	w32(t->win, 0x0a0, (uint32_t)TQ_USED);
	w32(t->win, 0x0a4, 0);
	w32(t->win, 0x044, 1);
	w32(t->win, 0x070, 0xf);
	return (r32(t->win, 0x070) & 0x4f) == 0xf;
}

/* Waits (up to 100 ms) until the device has used all we posted. */
static int tq_wait_used(struct trickle_q *t)
{
	uint64_t until = pit_us() + 100000;

	while (tq_used_idx() != t->posted)
		if (pit_us() > until)
			return 0;
	return 1;
}

static void trickle(const char *cmdline, uint64_t mode)
{
	uint64_t ms = param(cmdline, "hostile.trickle_ms", 10000);
	struct trickle_q t = { 0 };
	uint64_t start, next, kicks = 0, chains = 0, taught = 0;

	for (unsigned int i = 0; i < nwin && !t.win; i++)
		if (r32(windows[i], 0x008) == 2)
			t.win = windows[i];
	pit_start();
	if (!t.win || !tq_setup(&t)) {
		puts_com1("MMVM-TRICKLE no usable virtio-blk device\r\n");
		return;
	}
	/* Teach the window: requests back to back, each with a doorbell
	 * as soon as the last one is used (the gap poll=auto learns from is
	 * then the doorbell's own latency). */
	for (unsigned int i = 0; i < 64; i++) {
		tq_post_request(&t);
		tq_kick(&t);
		taught += tq_wait_used(&t);
	}
	puts_com1("MMVM-TRICKLE begin mode=");
	puts_com1(mode == 1 ? "junk" : "valid");
	puts_com1(" taught=");
	put_dec(taught);
	puts_com1("\r\n");
	start = pit_us();
	for (next = start + 900; next < start + ms * 1000; next += 900) {
		pit_wait_until(next);
		if ((uint16_t)(t.posted - tq_used_idx()) >= 8)
			continue;	/* ring full: the device is not looking */
		if (mode == 1)
			tq_post_junk(&t);
		else
			tq_post_request(&t);
		chains++;
		if (mode != 1 && tq_wants_kick()) {
			tq_kick(&t);
			kicks++;
		}
	}
	puts_com1("MMVM-TRICKLE end chains=");
	put_dec(chains);
	puts_com1(" used=");
	put_dec(tq_used_idx());
	puts_com1(" kicks=");
	put_dec(kicks);
	puts_com1(" us=");
	put_dec(pit_us() - start);
	puts_com1("\r\n");
	/* Long enough for the host to take its last sample, even a host
	 * slowed down by the trickle it serves. */
	pit_wait_until(pit_us() + 3000000);
}

/* ---- hostile.storm: VQ_PAIRS_SET as fast as the device answers ---- */

#define SQ_DESC		(SCRATCH + 0x300000)
#define SQ_AVAIL	(SQ_DESC + 0x1000)
#define SQ_USED		(SQ_DESC + 0x2000)
#define SQ_BUFS		(SQ_DESC + 0x3000)
#define SQ_SIZE		16
#define NET_CTRL_Q	4	/* 2N with two pairs */

static int sq_setup(uint64_t win)
{
	volatile uint8_t *z = (volatile uint8_t *)SQ_DESC;

	for (unsigned int i = 0; i < 0x4000; i++)
		z[i] = 0;
	w32(win, 0x070, 0);
	w32(win, 0x070, 1);
	w32(win, 0x070, 3);
	w32(win, 0x024, 1);
	w32(win, 0x020, 1);				/* VERSION_1 */
	w32(win, 0x024, 0);
	w32(win, 0x020, 1u << 17 | 1u << 22);		/* CTRL_VQ, MQ */
	w32(win, 0x070, 0xb);
	if (!(r32(win, 0x070) & 8))
		return 0;
	w32(win, 0x030, NET_CTRL_Q);
	w32(win, 0x038, SQ_SIZE);
	w32(win, 0x080, (uint32_t)SQ_DESC);
	w32(win, 0x084, 0);
	w32(win, 0x090, (uint32_t)SQ_AVAIL);
	w32(win, 0x094, 0);
	w32(win, 0x0a0, (uint32_t)SQ_USED);
	w32(win, 0x0a4, 0);
	w32(win, 0x044, 1);
	w32(win, 0x070, 0xf);
	return (r32(win, 0x070) & 0x4f) == 0xf;
}

/* Command i of a batch in descriptors 2i, 2i+1: class MQ (4), cmd
 * VQ_PAIRS_SET (0), the count; the ack byte after it. */
static void sq_post(uint16_t *posted, unsigned int i, uint16_t pairs)
{
	uint64_t buf = SQ_BUFS + 16 * i;
	volatile uint8_t *b = (volatile uint8_t *)buf;
	volatile uint16_t *avail = (volatile uint16_t *)SQ_AVAIL;
	volatile uint64_t *d = (volatile uint64_t *)SQ_DESC;

	b[0] = 4;
	b[1] = 0;
	b[2] = (uint8_t)pairs;
	b[3] = 0;
	b[8] = 0xee;
	d[4 * i] = buf;
	d[4 * i + 1] = 4 | (uint64_t)1 << 32 | (uint64_t)(2 * i + 1) << 48;
	d[4 * i + 2] = buf + 8;
	d[4 * i + 3] = 1 | (uint64_t)2 << 32;
	avail[2 + *posted % SQ_SIZE] = (uint16_t)(2 * i);
	__asm__ volatile("" ::: "memory");
	avail[1] = ++*posted;
}

static void storm(const char *cmdline)
{
	uint64_t ms = param(cmdline, "hostile.storm_ms", 5000);
	uint64_t win = 0, start, batches = 0, commands = 0, ok = 0;
	uint16_t posted = 0;

	for (unsigned int i = 0; i < nwin && !win; i++)
		if (r32(windows[i], 0x008) == 1)
			win = windows[i];
	pit_start();
	if (!win || !sq_setup(win)) {
		puts_com1("MMVM-STORM no usable multi-queue virtio-net device\r\n");
		return;
	}
	puts_com1("MMVM-STORM begin\r\n");
	start = pit_us();
	while (pit_us() - start < ms * 1000) {
		uint64_t until;

		for (unsigned int i = 0; i < 3; i++)
			sq_post(&posted, i, (uint16_t)((3 * batches + i) % 2 + 1));
		w32(win, 0x050, NET_CTRL_Q);
		until = pit_us() + 100000;
		while (((volatile uint16_t *)SQ_USED)[1] != posted &&
		       pit_us() < until)
			;
		for (unsigned int i = 0; i < 3; i++)
			ok += ((volatile uint8_t *)SQ_BUFS)[16 * i + 8] == 0;
		commands += 3;
		batches++;
	}
	puts_com1("MMVM-STORM end batches=");
	put_dec(batches);
	puts_com1(" commands=");
	put_dec(commands);
	puts_com1(" ok=");
	put_dec(ok);
	puts_com1(" us=");
	put_dec(pit_us() - start);
	puts_com1("\r\n");
}

void hostile_main(const uint8_t *zp);
void hostile_main(const uint8_t *zp)
{
	const char *cmdline = (const char *)(uintptr_t)*(const uint32_t *)(zp + 0x228);
	uint64_t iters = param(cmdline, "hostile.iters", 20000);
	/* hostile.mask: which of the 16 action slots may run (debugging). */
	uint64_t mask = param(cmdline, "hostile.mask", 0xffff);

	rng_state ^= param(cmdline, "hostile.seed", 1) * 0x2545f4914f6cdd1dULL;
	if (!rng_state)
		rng_state = 1;
	find_ram_end(zp);
	find_windows();
	puts_com1("MMVM-HOSTILE start devices=");
	put_dec(nwin);
	puts_com1(" ram_end=");
	put_dec(ram_end >> 20);
	puts_com1("M\r\n");
	if (param(cmdline, "hostile.storm", 0)) {
		storm(cmdline);
		iters = 0;
	}
	if (param(cmdline, "hostile.trickle", 0)) {
		trickle(cmdline, param(cmdline, "hostile.trickle", 0));
		iters = 0;
	}
	for (uint64_t i = 0; i < iters && nwin; i++) {
		uint64_t win = windows[below(nwin)];
		unsigned int action = (unsigned int)below(16);

		if (!(mask >> action & 1))
			continue;
		switch (action) {
		case 0: case 1: case 2: case 3: case 4:
			random_access(win);
			break;
		case 5: status_dance(win); break;
		case 6: case 7: queue_attack(win); break;
		case 8: doorbells(win); break;
		case 9: case 10: msi_attack(win); break;
		case 11: config_and_acks(win); break;
		case 12: w32(win, 0x070, 0); break;	/* reset storm */
		default:
			for (unsigned int k = 0; k < 8; k++)
				w32(win, 0x050, (uint32_t)below(20));
			break;
		}
	}
	/* hostile.spin=N: N reads of an unclaimed port, each an exit to
	 * mmvm: an idle guest that lives long enough to be measured. */
	for (uint64_t i = param(cmdline, "hostile.spin", 0); i; i--)
		__asm__ volatile("inb %w0, %%al" : : "Nd"((uint16_t)0x510) : "rax");
	puts_com1("MMVM-HOSTILE done iters=");
	put_dec(iters);
	puts_com1(" devices=");
	put_dec(nwin);
	puts_com1(" accesses=");
	put_dec(accesses);
	puts_com1("\r\n");
	for (;;) {
		outb(ACPI_RESET, 1);
		__asm__ volatile("hlt");
	}
}

/* startup_64's place: our own stack, then C. */
__asm__(".pushsection .text.entry, \"ax\"\n"
	".globl hostile_entry\n"
	"hostile_entry:\n"
	"	cli\n"
	"	lea hostile_stack_top(%rip), %rsp\n"
	"	mov %rsi, %rdi\n"
	"	call hostile_main\n"
	"1:	hlt\n"
	"	jmp 1b\n"
	".popsection\n"
	".pushsection .bss\n"
	".balign 16\n"
	"	.skip 65536\n"
	"hostile_stack_top:\n"
	".popsection\n");
