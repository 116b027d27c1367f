// The study's network for regression, as bnnmc's nn model: one hidden layer of H sigmoid
// units, sigmoid output, N(0, prior_var) on every weight and bias, y ~ N(f(x), tau^2) with
// tau^2 = exp(eta) and the improper 1/tau^2 prior (flat in eta: nu1 = nu2 = 0).
// rstan 2.21 syntax.
data {
  int<lower=1> N;
  int<lower=1> P;
  int<lower=1> H;
  matrix[N, P] X;
  vector[N] y;
  int<lower=0> Nt;
  matrix[Nt, P] Xt;
  real<lower=0> prior_var;
}
parameters {
  matrix[P, H] W1;
  vector[H] b1;
  vector[H] W2;
  real b2;
  real eta;
}
model {
  real sd_w = sqrt(prior_var);
  vector[N] f = inv_logit(inv_logit(X * W1 + rep_matrix(b1', N)) * W2 + b2);
  to_vector(W1) ~ normal(0, sd_w);
  b1 ~ normal(0, sd_w);
  W2 ~ normal(0, sd_w);
  b2 ~ normal(0, sd_w);
  y ~ normal(f, exp(0.5 * eta));
}
generated quantities {
  vector[Nt] f_test = inv_logit(inv_logit(Xt * W1 + rep_matrix(b1', Nt)) * W2 + b2);
}
