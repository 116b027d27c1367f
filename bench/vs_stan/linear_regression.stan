// bnnmc's linear model: y ~ N(X w + b, tau^2), N(0, prior_var) priors, flat in eta.
data {
  int<lower=1> N;
  int<lower=1> P;
  matrix[N, P] X;
  vector[N] y;
  int<lower=0> Nt;
  matrix[Nt, P] Xt;
  real<lower=0> prior_var;
}
parameters {
  vector[P] w;
  real b;
  real eta;
}
model {
  w ~ normal(0, sqrt(prior_var));
  b ~ normal(0, sqrt(prior_var));
  y ~ normal(X * w + b, exp(0.5 * eta));
}
generated quantities {
  vector[Nt] f_test = Xt * w + b;
}
