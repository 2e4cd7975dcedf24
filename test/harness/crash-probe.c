/* The container's init crashing: a real SIGSEGV from the kernel (a
 * signal sent to PID 1 from inside its namespace would be ignored). */
int main(void) {
        volatile int *nowhere = 0;
        return *nowhere;
}
