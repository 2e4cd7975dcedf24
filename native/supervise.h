#pragma once

/* tsnspawn-helper --supervise ARGS (supervise.c): holds a running container
 * in Node's pid after Node execve()s into it. Returns the exit status. */
int supervise_main(int argc, char **argv);
