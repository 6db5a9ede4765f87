/*
 * Dynamically linked programs, from elf(5), ld.so(8), dlopen(3),
 * getauxval(3) and execve(2): the kernel maps the program interpreter
 * PT_INTERP names and passes AT_BASE/AT_ENTRY/AT_PHDR; the loader maps
 * libc (shared, RELRO read-only after relocation), dlopen finds libraries
 * by path and through LD_LIBRARY_PATH; ASLR moves the stack, the PIE, the
 * libraries and the heap between runs unless ADDR_NO_RANDOMIZE is set;
 * a missing interpreter is ENOENT, one that is not ELF ELIBBAD.
 * Built twice: against glibc (dynlink) and, on x86_64, musl (dynlink_musl).
 */
#include "test.h"

#include <dlfcn.h>
#include <elf.h>
#include <libgen.h>
#include <link.h>
#include <sys/auxv.h>
#include <sys/mman.h>
#include <sys/personality.h>
#include <sys/wait.h>

extern char _start[];

/* The directory of helper files: <dir of this program>/../lib. */
static const char *libdir(void)
{
	static char dir[512];
	if (!dir[0]) {
		char exe[400];
		ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
		CHECK(n > 0);
		exe[n] = 0;
		snprintf(dir, sizeof(dir), "%s/../lib", dirname(exe));
	}
	return dir;
}

static long read_sysctl_int(const char *path)
{
	char buf[32] = { 0 };
	int fd = open(path, O_RDONLY);
	if (fd < 0)
		return -1;
	ssize_t n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	return n > 0 ? strtol(buf, NULL, 10) : -1;
}

/* The /proc/self/maps line that covers `addr` (static buffer), or NULL. */
static const char *maps_line(unsigned long addr)
{
	static char line[512];
	FILE *f = fopen("/proc/self/maps", "r");
	CHECK(f != NULL);
	const char *found = NULL;
	while (fgets(line, sizeof(line), f)) {
		unsigned long lo, hi;
		if (sscanf(line, "%lx-%lx", &lo, &hi) == 2 && lo <= addr && addr < hi) {
			found = line;
			break;
		}
	}
	fclose(f);
	return found;
}

TEST(auxv_names_the_interpreter)
{
	unsigned long base = getauxval(AT_BASE);
	CHECK(base != 0 && base % 4096 == 0);
	/* The interpreter's ELF header is mapped at AT_BASE, from its file. */
	CHECK(memcmp((const void *)base, ELFMAG, SELFMAG) == 0);
	const char *line = maps_line(base);
	CHECK(line != NULL);
	CHECK_MSG(strstr(line, "/ld-") || strstr(line, "musl/libc.so"), "maps line at AT_BASE: %s", line);
	/* AT_ENTRY is the program's own entry point, not the interpreter's. */
	CHECK_EQ(getauxval(AT_ENTRY), (unsigned long)_start);
	/* AT_PHDR points at the program's headers in memory. */
	const ElfW(Phdr) *phdr = (const ElfW(Phdr) *)getauxval(AT_PHDR);
	CHECK_EQ(getauxval(AT_PHENT), sizeof(ElfW(Phdr)));
	int interp = 0;
	for (unsigned long i = 0; i < getauxval(AT_PHNUM); i++)
		interp |= phdr[i].p_type == PT_INTERP;
	CHECK(interp);
	CHECK_EQ(getauxval(AT_SECURE), 0);
}

struct relro_probe {
	int checked;
	char name[256];
};

static int check_relro(struct dl_phdr_info *info, size_t size, void *data)
{
	(void)size;
	struct relro_probe *probe = data;
	if (!strstr(info->dlpi_name, "libc.so") && !strstr(info->dlpi_name, "ld-musl"))
		return 0;
	for (int i = 0; i < info->dlpi_phnum; i++) {
		const ElfW(Phdr) *p = &info->dlpi_phdr[i];
		if (p->p_type != PT_GNU_RELRO || p->p_memsz < 4096)
			continue;
		unsigned long start = (info->dlpi_addr + p->p_vaddr + 4095) & ~4095UL;
		const char *line = maps_line(start);
		CHECK(line != NULL);
		/* "lo-hi rw-p": the permissions follow the first space. */
		const char *perms = strchr(line, ' ') + 1;
		CHECK_MSG(perms[1] == '-', "RELRO page of %s writable: %s", info->dlpi_name, line);
		snprintf(probe->name, sizeof(probe->name), "%s", info->dlpi_name);
		probe->checked = 1;
	}
	return 0;
}

TEST(libc_is_shared_with_relro)
{
	struct relro_probe probe = { 0 };
	dl_iterate_phdr(check_relro, &probe);
#ifdef __GLIBC__
	/* musl's RELRO segment is smaller than a page: no page of it is
	 * read-only on its own. */
	CHECK_MSG(probe.checked, "no libc with a PT_GNU_RELRO segment");
#endif
	/* A libc function lives in a file mapping, not in the program. */
	const char *line = maps_line((unsigned long)(void *)&getpid);
	CHECK(line != NULL);
	CHECK_MSG(strstr(line, "libc.so") || strstr(line, "ld-musl"), "getpid in %s", line);
}

TEST(dlopen_by_path)
{
	char path[600];
	snprintf(path, sizeof(path), "%s/libstarling_dl.so", libdir());
	void *h = dlopen(path, RTLD_NOW);
	CHECK_MSG(h != NULL, "dlopen: %s", dlerror());
	int (*add)(int, int) = (int (*)(int, int))dlsym(h, "starling_dl_add");
	CHECK(add != NULL);
	CHECK_EQ(add(40, 2), 42);
	int *counter = dlsym(h, "starling_dl_counter");
	CHECK(counter != NULL);
	CHECK_EQ(*counter, 41);
	CHECK(maps_line((unsigned long)(void *)add) != NULL);
	CHECK_RET(dlclose(h), 0);
	CHECK(dlopen("/nonexistent/libnothing.so", RTLD_NOW) == NULL);
	CHECK(dlerror() != NULL);
}

/* Child modes, run through execve so the loader starts afresh. */
int t_child_main(int argc, char **argv)
{
	if (argc >= 1 && strcmp(argv[0], "dlopen-soname") == 0)
		return dlopen("libstarling_dl.so", RTLD_NOW) ? 0 : 1;
	if (argc >= 1 && strcmp(argv[0], "addresses") == 0) {
		int local;
		void *heap = malloc(16);
		void *map = mmap(NULL, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		printf("%p %p %p %p %p\n", (void *)&local, (void *)&t_child_main, (void *)&getpid,
		       heap, map);
		return 0;
	}
	return 2;
}

static pid_t exec_child(const char *mode, const char *ld_path, int out_fd, int no_random)
{
	pid_t pid = t_fork();
	if (pid == 0) {
		if (out_fd >= 0)
			dup2(out_fd, 1);
		if (ld_path)
			setenv("LD_LIBRARY_PATH", ld_path, 1);
		else
			unsetenv("LD_LIBRARY_PATH");
		if (no_random && personality(ADDR_NO_RANDOMIZE) == -1)
			_exit(3);
		execl("/proc/self/exe", "dynlink", "--child", mode, (char *)NULL);
		_exit(4);
	}
	return pid;
}

TEST(ld_library_path)
{
	t_wait_exit(exec_child("dlopen-soname", libdir(), -1, 0), 0);
	t_wait_exit(exec_child("dlopen-soname", NULL, -1, 0), 1);
}

/* One run's addresses: stack, program, libc, heap, mmap. */
static void addresses(int no_random, char *out, size_t size)
{
	int p[2];
	CHECK_RET(pipe(p), 0);
	pid_t pid = exec_child("addresses", NULL, p[1], no_random);
	close(p[1]);
	ssize_t n = read(p[0], out, size - 1);
	close(p[0]);
	t_wait_exit(pid, 0);
	CHECK(n > 0);
	out[n] = 0;
}

TEST(aslr)
{
	char a[256], b[256];
	if (read_sysctl_int("/proc/sys/kernel/randomize_va_space") == 0)
		t_skip("randomize_va_space is 0");
	addresses(0, a, sizeof(a));
	addresses(0, b, sizeof(b));
	unsigned long va[5], vb[5];
	CHECK_EQ(sscanf(a, "%lx %lx %lx %lx %lx", &va[0], &va[1], &va[2], &va[3], &va[4]), 5);
	CHECK_EQ(sscanf(b, "%lx %lx %lx %lx %lx", &vb[0], &vb[1], &vb[2], &vb[3], &vb[4]), 5);
	CHECK_MSG(va[0] != vb[0], "stack at the same address twice: %s", a);
	CHECK_MSG(va[1] != vb[1], "program at the same address twice: %s", a);
	CHECK_MSG(va[2] != vb[2], "libc at the same address twice: %s", a);
	CHECK_MSG(va[4] != vb[4], "mmap at the same address twice: %s", a);
	/* setarch -R: the same layout every time. */
	addresses(1, a, sizeof(a));
	addresses(1, b, sizeof(b));
	CHECK_STREQ(a, b);
}

TEST(bad_interpreters)
{
	char path[600];
	/* The interpreter named does not exist: ENOENT. */
	unlink("/tmp/starling-missing-interp");
	snprintf(path, sizeof(path), "%s/missing_interp", libdir());
	char *argv[] = { path, NULL };
	char *envp[] = { NULL };
	CHECK_ERR(execve(path, argv, envp), ENOENT);
	/* It exists and may be executed but is shorter than an ELF header:
	 * EIO; longer, but no ELF file: ELIBBAD. */
	int fd = CHECK_OK(open("/tmp/starling-text-interp", O_WRONLY | O_CREAT | O_TRUNC, 0755));
	CHECK_RET(write(fd, "#!/bin/sh\n", 10), 10);
	snprintf(path, sizeof(path), "%s/text_interp", libdir());
	argv[0] = path;
	/* Open for writing, the interpreter cannot run. */
	CHECK_ERR(execve(path, argv, envp), ETXTBSY);
	close(fd);
	CHECK_ERR(execve(path, argv, envp), EIO);
	char text[128];
	memset(text, '#', sizeof(text));
	fd = CHECK_OK(open("/tmp/starling-text-interp", O_WRONLY | O_APPEND));
	CHECK_RET(write(fd, text, sizeof(text)), (ssize_t)sizeof(text));
	close(fd);
	CHECK_ERR(execve(path, argv, envp), ELIBBAD);
	/* Not executable: EACCES. */
	CHECK_RET(chmod("/tmp/starling-text-interp", 0644), 0);
	CHECK_ERR(execve(path, argv, envp), EACCES);
	CHECK_RET(unlink("/tmp/starling-text-interp"), 0);
}
