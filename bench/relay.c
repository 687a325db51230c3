/* bench/relay.c - the floor under httpd's CPU figure: the least a program
 * can spend per GiB on this machine to do what an encrypted transfer does
 * on loopback, without HTTP, S3, APR or httpd.
 *
 *   build/bench/relay [-l LOWAT] open|seal|copy BYTES [MBPS]
 *
 * Three processes on 127.0.0.1 TCP: a source sends BYTES of records, the
 * relay (this process) receives them with 256 KiB recv calls, turns each
 * record into its output and sends that on; a sink reads and drops it.
 *
 *   open  records are 64 KiB of AES-256-GCM ciphertext + 16-byte tag (the
 *         object format's segments, aead.h): the relay opens each one and
 *         checks the tag before it sends the plaintext -- a download.
 *   seal  records are 64 KiB of plaintext: the relay seals each one and
 *         sends ciphertext + tag -- an encrypted upload part.
 *   copy  the bytes go through unchanged: the kernel's share alone.
 *
 * MBPS paces the source to that many MB (10^6 bytes) per second: the
 * per-byte cost depends on the rate (how full each recv comes back), so
 * the bench runs it at the rate it measured through httpd.
 *
 * -l LOWAT sets SO_RCVLOWAT on the relay's input (reads wake once that
 * many bytes are queued), as httpd does while it reads an upload part
 * (netread.c): bench/upload passes it, so both use the same socket options.
 *
 * On loopback the kernel charges the receiving side's TCP work to the
 * sender, so the relay's figure holds its own recv and send and the
 * sink's receive, as httpd's does for its client.
 *
 * Prints one line:
 *   relay mode=open bytes=N mbps=M lowat=L user_s=U sys_s=S cpu_s_per_gib=X
 * (CPU of the relay process alone, getrusage).  Exit status 0, or 1 with a
 * message when something failed (a tag that did not verify among them).
 */
#include <errno.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <openssl/evp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define SEG 65536
#define TAG 16
#define IO (256 * 1024)

enum { OPEN, SEAL, COPY };

static const unsigned char KEY[32] = "lenz bench relay: a fixed key!!";
static const unsigned char NONCE[12] = "segment-0000";

static void die(const char *what)
{
    fprintf(stderr, "relay: %s: %s\n", what, errno ? strerror(errno) : "failed");
    exit(1);
}

static int listener(unsigned short *port)
{
    struct sockaddr_in a;
    socklen_t len = sizeof(a);
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    memset(&a, 0, sizeof(a));
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof(a)) != 0 || listen(fd, 1) != 0
        || getsockname(fd, (struct sockaddr *)&a, &len) != 0)
        die("listen");
    *port = ntohs(a.sin_port);
    return fd;
}

static int dial(unsigned short port)
{
    struct sockaddr_in a;
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    memset(&a, 0, sizeof(a));
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = htons(port);
    if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof(a)) != 0)
        die("connect");
    return fd;
}

static void send_all(int fd, const unsigned char *p, size_t n)
{
    while (n > 0) {
        ssize_t w = send(fd, p, n, 0);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            die("send");
        p += w;
        n -= (size_t)w;
    }
}

static int gcm(int enc, const unsigned char *in, size_t len, unsigned char *out, unsigned char *tag)
{
    static EVP_CIPHER_CTX *ctx;
    int n = 0, ok;
    if (!ctx && !(ctx = EVP_CIPHER_CTX_new()))
        die("EVP_CIPHER_CTX_new");
    ok = EVP_CipherInit_ex(ctx, EVP_aes_256_gcm(), NULL, KEY, NONCE, enc)
        && EVP_CipherUpdate(ctx, out, &n, in, (int)len);
    if (!enc)
        ok = ok && EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, TAG, tag);
    ok = ok && EVP_CipherFinal_ex(ctx, out + n, &n);
    if (enc)
        ok = ok && EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, TAG, tag);
    return ok;
}

/* The source: BYTES of records, in IO-sized sends from a buffer of whole
 * records (ciphertext + tag of one fixed plaintext for open). */
static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + t.tv_nsec / 1e9;
}

static void source(unsigned short port, int mode, long long bytes, double mbps)
{
    double t0 = now(), sent = 0;
    size_t rec = mode == OPEN ? SEG + TAG : SEG, per = IO / rec, i;
    unsigned char *buf = malloc(per * rec), *plain = malloc(SEG);
    int fd = dial(port);
    if (!buf || !plain)
        die("malloc");
    for (i = 0; i < SEG; i++)
        plain[i] = (unsigned char)(i * 131 + 7);
    for (i = 0; i < per; i++) {
        if (mode == OPEN) {
            if (!gcm(1, plain, SEG, buf + i * rec, buf + i * rec + SEG))
                die("seal");
        }
        else
            memcpy(buf + i * rec, plain, SEG);
    }
    while (bytes > 0) {
        size_t n = bytes < (long long)(per * rec) ? (size_t)bytes : per * rec;
        send_all(fd, buf, n);
        bytes -= (long long)n;
        sent += (double)n;
        if (mbps > 0) {
            double ahead = sent / (mbps * 1e6) - (now() - t0);
            if (ahead > 0)
                usleep((useconds_t)(ahead * 1e6));
        }
    }
    close(fd);
    _exit(0);
}

static void sink(unsigned short port)
{
    unsigned char *buf = malloc(IO);
    int fd = dial(port);
    if (!buf)
        die("malloc");
    for (;;) {
        ssize_t r = recv(fd, buf, IO, 0);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
    }
    _exit(0);
}

static double secs(struct timeval tv) { return (double)tv.tv_sec + tv.tv_usec / 1e6; }

int main(int argc, char **argv)
{
    unsigned short in_port, out_port;
    int in_l, out_l, in, out, mode, status, failed = 0;
    long long bytes, got = 0;
    size_t rec, have = 0;
    unsigned char *ibuf, *obuf;
    struct rusage ru0, ru1;
    pid_t src, snk;
    int lowat = 0, opt;

    while ((opt = getopt(argc, argv, "l:")) != -1) {
        if (opt != 'l')
            return 2;
        lowat = atoi(optarg);
    }
    argc -= optind - 1;
    argv += optind - 1;
    if (argc < 3 || argc > 4 || (bytes = atoll(argv[2])) <= 0) {
        fprintf(stderr, "usage: relay [-l LOWAT] open|seal|copy BYTES [MBPS]\n");
        return 2;
    }
    mode = !strcmp(argv[1], "open") ? OPEN : !strcmp(argv[1], "seal") ? SEAL
         : !strcmp(argv[1], "copy") ? COPY : -1;
    if (mode < 0) {
        fprintf(stderr, "relay: unknown mode '%s'\n", argv[1]);
        return 2;
    }
    rec = mode == OPEN ? SEG + TAG : SEG;
    bytes -= bytes % (long long)rec;            /* whole records */
    signal(SIGPIPE, SIG_IGN);
    in_l = listener(&in_port);
    out_l = listener(&out_port);
    if ((snk = fork()) == 0)
        sink(out_port);
    out = accept(out_l, NULL, NULL);
    if ((src = fork()) == 0)
        source(in_port, mode, bytes, argc > 3 ? atof(argv[3]) : 0);
    in = accept(in_l, NULL, NULL);
    ibuf = malloc(IO + rec);
    obuf = malloc(IO + rec);
    if (in < 0 || out < 0 || !ibuf || !obuf)
        die("accept");

    if (lowat > 0 && setsockopt(in, SOL_SOCKET, SO_RCVLOWAT, &lowat, sizeof(lowat)) != 0)
        die("SO_RCVLOWAT");
    getrusage(RUSAGE_SELF, &ru0);
    while (got < bytes) {
        ssize_t r = recv(in, ibuf + have, IO, 0);
        size_t done = 0, olen = 0;
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            die("recv");
        got += r;
        have += (size_t)r;
        if (mode == COPY) {
            send_all(out, ibuf, have);
            have = 0;
            continue;
        }
        for (; have - done >= rec; done += rec) {
            unsigned char *in_rec = ibuf + done;
            if (mode == OPEN) {
                if (!gcm(0, in_rec, SEG, obuf + olen, in_rec + SEG)) {
                    failed = 1;
                    break;
                }
                olen += SEG;
            }
            else {
                if (!gcm(1, in_rec, SEG, obuf + olen, obuf + olen + SEG))
                    die("seal");
                olen += SEG + TAG;
            }
        }
        if (failed)
            break;
        send_all(out, obuf, olen);
        memmove(ibuf, ibuf + done, have - done);
        have -= done;
    }
    getrusage(RUSAGE_SELF, &ru1);
    close(out);
    close(in);
    waitpid(src, &status, 0);
    waitpid(snk, &status, 0);
    if (failed) {
        fprintf(stderr, "relay: a tag did not verify\n");
        return 1;
    }
    {
        double user = secs(ru1.ru_utime) - secs(ru0.ru_utime);
        double sys = secs(ru1.ru_stime) - secs(ru0.ru_stime);
        printf("relay mode=%s bytes=%lld mbps=%.0f lowat=%d user_s=%.3f sys_s=%.3f cpu_s_per_gib=%.3f\n",
               argv[1], bytes, argc > 3 ? atof(argv[3]) : 0, lowat, user, sys,
               (user + sys) * (double)(1LL << 30) / (double)bytes);
    }
    return 0;
}
