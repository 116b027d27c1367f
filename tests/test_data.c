/* test_data.c — table parsing, every malformed-input message, built-ins, the study's data. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bnnmc.h"
#include "check.h"

static char tmpdir[] = "/tmp/bnnmc-test-data-XXXXXX";

static const char *write_file(const char *name, const char *content)
{
    static char path[512];
    snprintf(path, sizeof path, "%s/%s", tmpdir, name);
    FILE *f = fopen(path, "wb");
    fwrite(content, 1, strlen(content), f);
    fclose(f);
    return path;
}

/* Reading name (with content) must fail with code and a message containing want. */
static void expect_error(const char *name, const char *content, bnn_status code,
                         const char *want)
{
    const char *path = write_file(name, content);
    bnn_table *t = NULL;
    bnn_error err = {0};
    bnn_status st = bnn_table_read(&t, path, 0, &err);
    CHECK_VERBOSE(st == code && t == NULL && strstr(err.msg, want) != NULL,
                  "%-14s -> \"%s\" (want code %d and \"%s\")", name, err.msg, (int)code, want);
    bnn_table_free(t);
}

static void expect_class_error(const char *name, const char *content, int k,
                               const char *want)
{
    const char *path = write_file(name, content);
    bnn_table *t = NULL;
    bnn_error err = {0};
    bnn_status st = bnn_table_read(&t, path, 0, &err);
    CHECK(st == BNN_OK, "%s should parse: %s", name, err.msg);
    if (st)
        return;
    int K = k;
    st = bnn_table_check_classes(t, &K, &err);
    CHECK_VERBOSE(st == BNN_EPARSE && strstr(err.msg, want) != NULL,
                  "%-14s -> \"%s\" (want \"%s\")", name, err.msg, want);
    bnn_table_free(t);
}

static void test_malformed(void)
{
    bnn_table *t = NULL;
    bnn_error err = {0};
    CHECK_VERBOSE(bnn_table_read(&t, "/nonexistent/x.txt", 0, &err) == BNN_EIO &&
                      strstr(err.msg, "/nonexistent/x.txt: cannot open"),
                  "missing file -> \"%s\"", err.msg);
    char p[600];
    expect_error("empty.txt", "", BNN_EPARSE, "empty.txt:1: no data rows (the file is empty)");
    expect_error("blank.txt", "\n  \n\t\n", BNN_EPARSE, "blank.txt:3: no data rows");
    expect_error("header.txt", "a b c\n", BNN_EPARSE, "header.txt:1: no data rows (only a header)");
    expect_error("ragged.txt", "1 2 3\n4 5 6\n7 8\n", BNN_EPARSE,
                 "ragged.txt:3:3: row has 2 columns, expected 3 as on line 1");
    expect_error("long.txt", "1 2 3\n4 5 6 7\n", BNN_EPARSE,
                 "long.txt:2:4: row has 4 columns, expected 3");
    expect_error("word.txt", "1 2 3\n4 abc 6\n", BNN_EPARSE, "word.txt:2:2: 'abc' is not a number");
    expect_error("mixed.txt", "1 x 3\n", BNN_EPARSE, "mixed.txt:1:2: 'x' is not a number");
    expect_error("nan.txt", "1,2,3\n4,nan,6\n", BNN_EPARSE, "nan.txt:2:2: 'nan' is not a finite number");
    expect_error("inf.txt", "1 2 3\n4 5 -inf\n", BNN_EPARSE, "inf.txt:2:3: '-inf' is not a finite number");
    expect_error("huge.txt", "1 2 3\n4 5 1e999\n", BNN_EPARSE, "huge.txt:2:3: '1e999' is not a finite number");
    expect_error("emptyfield.txt", "1,2,3\n4,,6\n", BNN_EPARSE, "emptyfield.txt:2:2: empty field");
    expect_error("trailcomma.txt", "1,2,3,\n", BNN_EPARSE, "trailcomma.txt:1:4: empty field");
    expect_error("onecol.txt", "1\n2\n", BNN_EPARSE, "onecol.txt:1:1: a row needs at least one input");
    /* a control character in a field is shown escaped, so the message stays one line */
    expect_error("ctl.txt", "1 2 3\n4 \v\x1b[2J 6\n", BNN_EPARSE,
                 "ctl.txt:2:2: '\\x0b\\x1b[2J' is not a number");
    /* CR-only line endings (classic Mac) must not read as one long row */
    expect_error("cr.txt", "1 2 3\r4 5 6\r7 8 9\r", BNN_EPARSE,
                 "cr.txt:1: a carriage return inside a line");
    expect_error("crlate.txt", "1 2 3\r\n4 5 6\r7 8 9\r\n", BNN_EPARSE,
                 "crlate.txt:2: a carriage return inside a line");
    /* a NUL byte cannot go through a C string: write it by hand */
    snprintf(p, sizeof p, "%s/nul.txt", tmpdir);
    FILE *f = fopen(p, "wb");
    fwrite("1 2\n3 \0 4\n", 1, 10, f);
    fclose(f);
    CHECK_VERBOSE(bnn_table_read(&t, p, 0, &err) == BNN_EPARSE && strstr(err.msg, "nul.txt:2: a NUL byte"),
                  "NUL byte -> \"%s\"", err.msg);

    expect_class_error("neg.txt", "1 0\n2 1\n3 -1\n", 0, "neg.txt:3:2: class label -1 is negative");
    expect_class_error("frac.txt", "1 0\n2 1.5\n", 0, "frac.txt:2:2: class label 1.5 is not an integer");
    expect_class_error("gap.txt", "1 0\n2 2\n3 0\n", 0, "gap.txt: class 1 has no rows");
    expect_class_error("oneclass.txt", "1 0\n2 0\n", 0, "oneclass.txt: classification needs at least 2 classes");
    expect_class_error("testlabel.txt", "1 0\n2 3\n", 3,
                       "testlabel.txt:2:2: class label 3, but the training data have classes 0..2");

    /* test file with a different column count */
    bnn_table *a = NULL, *b = NULL;
    CHECK(bnn_table_read(&a, write_file("tr.txt", "1 2 3\n"), 0, &err) == BNN_OK, "tr");
    CHECK(bnn_table_read(&b, write_file("te.txt", "\n1 2 3 4\n"), 0, &err) == BNN_OK, "te");
    if (a && b) {
        bnn_status st = bnn_table_check_inputs(b, a, &err);
        CHECK_VERBOSE(st == BNN_EPARSE && strstr(err.msg, "te.txt:2:1: 4 columns, but the training data"),
                      "test columns differ -> \"%s\"", err.msg);
    }
    bnn_table_free(a);
    bnn_table_free(b);
    /* target column out of range */
    CHECK_VERBOSE(bnn_table_read(&t, write_file("tc.txt", "1 2 3\n"), 5, &err) == BNN_EINVAL &&
                      strstr(err.msg, "tc.txt: target column 5 is out of range 1..3"),
                  "target column out of range -> \"%s\"", err.msg);
}

static void test_wellformed(void)
{
    bnn_table *t = NULL;
    bnn_error err = {0};
    const char *path = write_file("ok.csv", "x1, x2 ,y\r\n1,2,3\r\n\r\n4,\t5,6\r\n-1e-3, .5 ,+7\r\n");
    bnn_status st = bnn_table_read(&t, path, 0, &err);
    CHECK(st == BNN_OK, "ok.csv: %s", err.msg);
    if (!st) {
        CHECK(t->n == 3 && t->p == 2, "shape %zux%zu", t->n, t->p);
        CHECK(t->x[0] == 1 && t->x[1] == 2 && t->y[0] == 3, "row 1");
        CHECK(t->x[4] == -1e-3 && t->x[5] == 0.5 && t->y[2] == 7, "row 3");
        CHECK(t->line[0] == 2 && t->line[1] == 4 && t->line[2] == 5, "line numbers %zu %zu %zu",
              t->line[0], t->line[1], t->line[2]);
        CHECK(t->target_col == 3, "target col");
    }
    bnn_table_free(t);
    /* target in the first column */
    st = bnn_table_read(&t, write_file("first.txt", "9 1 2\n8 3 4\n"), 1, &err);
    CHECK(st == BNN_OK && t->y[0] == 9 && t->x[0] == 1 && t->x[1] == 2 && t->y[1] == 8 &&
              t->x[3] == 4 && t->target_col == 1, "target column 1");
    bnn_table_free(t);
    /* task inference */
    st = bnn_table_read(&t, write_file("cls.txt", "0.1 0\n0.2 2\n0.3 1\n"), 0, &err);
    int K = -1;
    CHECK(st == BNN_OK && bnn_table_infer_task(t, &K) == BNN_TASK_CLASSIFICATION && K == 3,
          "infer classification, K=%d", K);
    bnn_table_free(t);
    st = bnn_table_read(&t, write_file("reg.txt", "0.1 0\n0.2 2\n0.3 1.5\n"), 0, &err);
    CHECK(st == BNN_OK && bnn_table_infer_task(t, &K) == BNN_TASK_REGRESSION && K == 0,
          "infer regression");
    bnn_table_free(t);
    st = bnn_table_read(&t, write_file("gapreg.txt", "0.1 0\n0.2 2\n"), 0, &err);
    CHECK(st == BNN_OK && bnn_table_infer_task(t, &K) == BNN_TASK_REGRESSION,
          "integer labels with an empty class are not inferred as classes");
    bnn_table_free(t);
}

static void test_builtin(void)
{
    for (int i = 0; bnn_dataset_get(i); i++) {
        const bnn_dataset_info *d = bnn_dataset_get(i);
        bnn_table *tr = NULL, *te = NULL, *tr2 = NULL, *te2 = NULL;
        bnn_error err = {0};
        CHECK(bnn_dataset_make(d->name, 7, &tr, &te, &err) == BNN_OK, "%s: %s", d->name, err.msg);
        CHECK(bnn_dataset_make(d->name, 7, &tr2, &te2, &err) == BNN_OK, "%s again", d->name);
        if (!tr || !tr2)
            continue;
        CHECK(tr->n == tr2->n && memcmp(tr->x, tr2->x, tr->n * tr->p * sizeof(double)) == 0 &&
                  memcmp(te->y, te2->y, te->n * sizeof(double)) == 0,
              "%s is deterministic", d->name);
        int K = 0;
        bnn_task task = bnn_table_infer_task(tr, &K);
        CHECK_VERBOSE(task == d->task && K == d->n_classes, "builtin %s: %zu+%zu rows, %zu inputs, "
                      "task %d, K %d", d->name, tr->n, te->n, tr->p, (int)task, K);
        if (d->task == BNN_TASK_REGRESSION) {
            double lo = INFINITY, hi = -INFINITY;
            for (size_t r = 0; r < tr->n; r++) {
                lo = fmin(lo, tr->y[r]);
                hi = fmax(hi, tr->y[r]);
            }
            CHECK(lo >= 0 && hi <= 1 && hi - lo > 0.5, "%s targets in [0,1]: %g..%g", d->name, lo, hi);
        }
        bnn_table_free(tr);
        bnn_table_free(te);
        bnn_table_free(tr2);
        bnn_table_free(te2);
    }
    bnn_table *a = NULL, *b = NULL;
    bnn_error err = {0};
    CHECK(bnn_dataset_make("nope", 1, &a, &b, &err) == BNN_EINVAL && strstr(err.msg, "unknown data set 'nope'"),
          "unknown built-in: %s", err.msg);
}

/* The study's four data sets load with the shapes of ../shared/data/README.md. */
static void test_shared(const char *dir)
{
    static const struct {
        const char *name;
        size_t p, n_train, n_test;
        int K;
    } sets[] = {{"sunspot", 4, 298, 198, 0}, {"abalone", 8, 2506, 1671, 0},
                {"iris", 4, 105, 45, 3}, {"ionosphere", 34, 245, 106, 2}};
    char path[1024];
    snprintf(path, sizeof path, "%s/sunspot/train.txt", dir);
    if (access(path, R_OK) != 0) {
        printf("skip   the study's data sets: %s not found\n", dir);
        return;
    }
    for (int i = 0; i < 4; i++) {
        bnn_table *tr = NULL, *te = NULL;
        bnn_error err = {0};
        snprintf(path, sizeof path, "%s/%s/train.txt", dir, sets[i].name);
        bnn_status s1 = bnn_table_read(&tr, path, 0, &err);
        CHECK(s1 == BNN_OK, "%s", err.msg);
        snprintf(path, sizeof path, "%s/%s/test.txt", dir, sets[i].name);
        bnn_status s2 = bnn_table_read(&te, path, 0, &err);
        CHECK(s2 == BNN_OK, "%s", err.msg);
        if (!s1 && !s2) {
            int K = 0;
            bnn_task task = bnn_table_infer_task(tr, &K);
            int Kt = K;
            CHECK_VERBOSE(tr->p == sets[i].p && tr->n == sets[i].n_train && te->n == sets[i].n_test &&
                              K == sets[i].K && bnn_table_check_inputs(te, tr, &err) == BNN_OK &&
                              (task == BNN_TASK_REGRESSION || bnn_table_check_classes(te, &Kt, &err) == BNN_OK),
                          "%s: %zu inputs, %zu train, %zu test rows, K = %d", sets[i].name, tr->p,
                          tr->n, te->n, K);
        }
        bnn_table_free(tr);
        bnn_table_free(te);
    }
}

int main(int argc, char **argv)
{
    if (!mkdtemp(tmpdir)) {
        perror("mkdtemp");
        return 1;
    }
    test_malformed();
    test_wellformed();
    test_builtin();
    test_shared(argc > 1 ? argv[1] : "../shared/data");
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf %s", tmpdir);
    if (system(cmd) != 0)
        printf("warning: could not remove %s\n", tmpdir);
    return check_done("test_data");
}
