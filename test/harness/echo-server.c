/* A tiny static server for the network tests: for each port given, a TCP
 * listener and a UDP socket on [::] (IPv4 too: not v6-only). Each TCP
 * connection gets "tcp PORT\n" and is closed; each datagram is answered
 * with "udp PORT\n". Prints "ready" once all are bound. Runs until killed. */
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define MAX 16

static int open_socket(int type, int port) {
        int fd = socket(AF_INET6, type, 0), off = 0, on = 1;
        struct sockaddr_in6 a = { .sin6_family = AF_INET6, .sin6_port = htons((unsigned short) port), .sin6_addr = IN6ADDR_ANY_INIT };
        if (fd < 0 || setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &off, sizeof off) < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on) < 0 ||
            bind(fd, (struct sockaddr *) &a, sizeof a) < 0 || (type == SOCK_STREAM && listen(fd, 16) < 0)) {
                perror("echo-server");
                exit(1);
        }
        return fd;
}

int main(int argc, char **argv) {
        struct pollfd p[2 * MAX];
        int ports[2 * MAX], n = 0;
        for (int i = 1; i < argc && n < 2 * MAX; i++) {
                int port = atoi(argv[i]);
                ports[n] = port;
                p[n++] = (struct pollfd){ .fd = open_socket(SOCK_STREAM, port), .events = POLLIN };
                ports[n] = port;
                p[n++] = (struct pollfd){ .fd = open_socket(SOCK_DGRAM, port), .events = POLLIN };
        }
        printf("ready\n");
        fflush(stdout);
        for (;;) {
                if (poll(p, (nfds_t) n, -1) < 0)
                        continue;
                for (int i = 0; i < n; i++) {
                        if (!p[i].revents)
                                continue;
                        char msg[32];
                        if (i % 2 == 0) {
                                int c = accept(p[i].fd, NULL, NULL);
                                if (c < 0)
                                        continue;
                                int len = snprintf(msg, sizeof msg, "tcp %d\n", ports[i]);
                                (void) write(c, msg, (size_t) len);
                                close(c);
                        } else {
                                struct sockaddr_in6 from;
                                socklen_t fl = sizeof from;
                                char buf[512];
                                if (recvfrom(p[i].fd, buf, sizeof buf, 0, (struct sockaddr *) &from, &fl) < 0)
                                        continue;
                                int len = snprintf(msg, sizeof msg, "udp %d\n", ports[i]);
                                (void) sendto(p[i].fd, msg, (size_t) len, 0, (struct sockaddr *) &from, fl);
                        }
                }
        }
}
