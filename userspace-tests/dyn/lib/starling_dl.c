/* A shared library for the dynamic-linking tests: no libc dependency, so
 * glibc and musl programs can both load it. */
int starling_dl_add(int a, int b)
{
	return a + b;
}

int starling_dl_counter = 41;
