// The study's network for classification: one hidden layer of H sigmoid units, softmax
// output over K classes, N(0, prior_var) on every weight and bias. rstan 2.21 syntax.
data {
  int<lower=1> N;
  int<lower=1> P;
  int<lower=1> H;
  int<lower=2> K;
  matrix[N, P] X;
  int<lower=1, upper=K> y[N];
  int<lower=0> Nt;
  matrix[Nt, P] Xt;
  int<lower=1, upper=K> yt[Nt];
  real<lower=0> prior_var;
}
parameters {
  matrix[P, H] W1;
  vector[H] b1;
  matrix[H, K] W2;
  vector[K] b2;
}
model {
  real sd_w = sqrt(prior_var);
  matrix[N, K] Z = inv_logit(X * W1 + rep_matrix(b1', N)) * W2 + rep_matrix(b2', N);
  to_vector(W1) ~ normal(0, sd_w);
  b1 ~ normal(0, sd_w);
  to_vector(W2) ~ normal(0, sd_w);
  b2 ~ normal(0, sd_w);
  for (n in 1:N)
    y[n] ~ categorical_logit(Z[n]');
}
generated quantities {
  vector[Nt] p_true;
  {
    matrix[Nt, K] Zt = inv_logit(Xt * W1 + rep_matrix(b1', Nt)) * W2 + rep_matrix(b2', Nt);
    for (n in 1:Nt)
      p_true[n] = softmax(Zt[n]')[yt[n]];
  }
}
