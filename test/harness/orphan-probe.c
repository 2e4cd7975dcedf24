/* Leaves an orphan that exits, never reaps anything itself, and prints how
 * many zombies the container has half a second later: as PID 1 the orphan
 * comes back to it and stays a zombie; under a reaping init it is gone. */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static int zombies(void) {
        int n = 0;
        DIR *d = opendir("/proc");
        for (struct dirent *e; d && (e = readdir(d));) {
                char path[300], buf[512];
                snprintf(path, sizeof path, "/proc/%s/stat", e->d_name);
                FILE *f = fopen(path, "r");
                if (!f)
                        continue;
                if (fgets(buf, sizeof buf, f)) {
                        char *close = strrchr(buf, ')');
                        if (close && close[1] == ' ' && close[2] == 'Z')
                                n++;
                }
                fclose(f);
        }
        if (d)
                closedir(d);
        return n;
}

int main(void) {
        pid_t middle = fork();
        if (middle == 0) {
                if (fork() == 0)
                        _exit(0); /* the orphan-to-be: exits at once */
                _exit(0);         /* the middle one: its child is orphaned */
        }
        /* Reap only the middle child, by pid; the orphan is someone else's job. */
        int status;
        waitpid(middle, &status, 0);
        usleep(500000);
        printf("zombies=%d\n", zombies());
        return 0;
}
