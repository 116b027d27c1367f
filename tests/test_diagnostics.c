/* test_diagnostics.c — R-hat, ESS and MCSE against reference values computed by R's
 * posterior package and coda (tests/reference/make_reference.R) on fixed draw matrices:
 * every statistic must agree to relative error 1e-6 (NA in R is NaN here). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bnnmc.h"
#include "check.h"

#define NCOLS 19

static const char *cols[NCOLS] = {"case", "chains", "draws", "mean", "sd", "q5", "q50",
                                  "q95", "mcse_mean", "mcse_sd", "mcse_q5", "mcse_q50",
                                  "mcse_q95", "ess_bulk", "ess_tail", "ess_basic", "rhat",
                                  "rhat_basic", "rhat_gr"};

/* draws file: N lines of M values -> chain-major M x N */
static double *read_draws(const char *path, size_t M, size_t N)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return NULL;
    double *x = malloc(M * N * sizeof *x);
    for (size_t i = 0; i < N; i++)
        for (size_t m = 0; m < M; m++)
            if (fscanf(f, "%lf", &x[m * N + i]) != 1) {
                fclose(f);
                free(x);
                return NULL;
            }
    fclose(f);
    return x;
}

static int agree(double got, double want)
{
    if (isnan(want))
        return isnan(got);
    return fabs(got - want) <= 1e-6 * fmax(fabs(want), 1e-300);
}

int main(int argc, char **argv)
{
    const char *dir = argc > 1 ? argv[1] : "tests/reference";
    char path[1024], line[8192];
    snprintf(path, sizeof path, "%s/reference.csv", dir);
    FILE *f = fopen(path, "r");
    CHECK(f != NULL, "cannot open %s", path);
    if (!f)
        return check_done("test_diagnostics");
    if (!fgets(line, sizeof line, f))
        return 1;
    int cases = 0;
    while (fgets(line, sizeof line, f)) {
        char *field[NCOLS];
        int n = 0;
        for (char *tok = strtok(line, ",\n"); tok && n < NCOLS; tok = strtok(NULL, ",\n"))
            field[n++] = tok;
        CHECK(n == NCOLS, "reference row has %d fields", n);
        if (n != NCOLS)
            continue;
        while (*field[0] == ' ')
            field[0]++;
        double want[NCOLS];
        for (int k = 1; k < NCOLS; k++)
            want[k] = strstr(field[k], "NA") ? NAN : strtod(field[k], NULL);
        size_t M = (size_t)want[1], N = (size_t)want[2];
        snprintf(path, sizeof path, "%s/%s.draws", dir, field[0]);
        double *x = read_draws(path, M, N);
        CHECK(x != NULL, "cannot read %s", path);
        if (!x)
            continue;
        bnn_summary s;
        CHECK(bnn_summarise(x, M, N, &s) == BNN_OK, "summarise %s", field[0]);
        double got[NCOLS] = {0, (double)M, (double)N, s.mean, s.sd, s.q5, s.q50, s.q95,
                             s.mcse_mean, s.mcse_sd, s.mcse_q5, s.mcse_q50, s.mcse_q95,
                             s.ess_bulk, s.ess_tail, s.ess_basic, s.rhat, s.rhat_basic,
                             s.rhat_gr};
        int bad = 0;
        double worst = 0;
        for (int k = 3; k < NCOLS; k++) {
            if (!agree(got[k], want[k])) {
                bad++;
                printf("       %s %s: %.12g, R says %.12g\n", field[0], cols[k], got[k], want[k]);
            } else if (!isnan(want[k])) {
                worst = fmax(worst, fabs(got[k] - want[k]) / fmax(fabs(want[k]), 1e-300));
            }
        }
        CHECK_VERBOSE(bad == 0, "%-17s %zu x %4zu: 16 statistics vs R posterior/coda, max rel err %.1e "
                      "(rhat %.4f, ess_bulk %.1f, ess_tail %.1f)", field[0], M, N, worst, s.rhat,
                      s.ess_bulk, s.ess_tail);
        /* the cheaper pair used on predictions gives the same numbers */
        double r, e;
        bnn_rhat_ess_bulk(x, M, N, &r, &e);
        CHECK(agree(r, want[16]) && agree(e, want[13]), "%s: bnn_rhat_ess_bulk %g %g", field[0], r, e);
        free(x);
        cases++;
    }
    fclose(f);
    CHECK(cases >= 9, "only %d reference cases", cases);
    return check_done("test_diagnostics");
}
