/*
 * The bad-argument sweep's result tables (badargs.c): Linux's answers
 * (sweep/linux-6.1-<arch>.tsv, recorded by make sweep-linux) and the
 * listed deviations (sweep/deviations.<arch>), read from the installed
 * suite. Included by badargs.c only.
 */
#ifndef BADARGS_RESULTS_H
#define BADARGS_RESULTS_H

/* ---- the tables of results ------------------------------------------- */

struct entry {
	char name[40];
	char cls[16];
	char result[40];
	char other[40];
	int used;
};

struct table {
	struct entry *e;
	int n, cap;
	int loaded;
	char path[300];
};

static struct table linux_table, deviations;

static const char *data_dir(void)
{
	static char dir[256];
	if (dir[0])
		return dir;
	const char *env = getenv("STARLING_TESTS_DIR");
	if (env && *env) {
		snprintf(dir, sizeof(dir), "%s/sweep", env);
	} else {
		char exe[200];
		snprintf(exe, sizeof(exe), "%s", t_argv[0]);
		char *slash = strrchr(exe, '/');
		if (slash)
			*slash = '\0';
		else
			snprintf(exe, sizeof(exe), ".");
		snprintf(dir, sizeof(dir), "%s/../sweep", exe);
	}
	return dir;
}

/*
 * Reads "name class result" lines (the Linux table) or "name class
 * starling linux # reason" lines (the deviations; class "*" matches every
 * class). '#' starts a comment; a deviation without a reason is an error.
 */
static void load_table(struct table *t, const char *file, int deviation_fmt)
{
	if (t->loaded)
		return;
	t->loaded = 1;
	snprintf(t->path, sizeof(t->path), "%s/%s", data_dir(), file);
	FILE *f = fopen(t->path, "r");
	if (!f)
		t_fail("cannot open %s: %s", t->path, t_errname(errno));
	char line[512];
	int lineno = 0;
	while (fgets(line, sizeof(line), f)) {
		lineno++;
		char *hash = strchr(line, '#');
		int has_reason = 0;
		if (hash) {
			char *r = hash + 1;
			while (*r == ' ' || *r == '\t')
				r++;
			has_reason = *r && *r != '\n';
			*hash = '\0';
		}
		struct entry e;
		memset(&e, 0, sizeof(e));
		int n = sscanf(line, "%39s %15s %39s %39s", e.name, e.cls,
			       e.result, e.other);
		if (n <= 0)
			continue;
		if (n != (deviation_fmt ? 4 : 3) ||
		    (deviation_fmt && !has_reason))
			t_fail("%s:%d: malformed line (want %s)", t->path,
			       lineno,
			       deviation_fmt ? "name class starling linux # reason"
					     : "name class result");
		if (t->n == t->cap) {
			t->cap = t->cap ? 2 * t->cap : 1024;
			t->e = realloc(t->e, (size_t)t->cap * sizeof(*t->e));
			if (!t->e)
				t_fail("out of memory");
		}
		t->e[t->n++] = e;
	}
	fclose(f);
}

static struct entry *find(struct table *t, const char *name, const char *cls)
{
	for (int i = 0; i < t->n; i++)
		if (strcmp(t->e[i].name, name) == 0 &&
		    strcmp(t->e[i].cls, cls) == 0)
			return &t->e[i];
	return NULL;
}

static struct entry *find_deviation(const char *name, const char *cls,
				    const char *got, const char *linux_res)
{
	for (int i = 0; i < deviations.n; i++) {
		struct entry *d = &deviations.e[i];
		if (strcmp(d->name, name) == 0 &&
		    (strcmp(d->cls, cls) == 0 || strcmp(d->cls, "*") == 0) &&
		    strcmp(d->result, got) == 0 &&
		    strcmp(d->other, linux_res) == 0)
			return d;
	}
	return NULL;
}

#endif
