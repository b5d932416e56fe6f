# Ablation: L_c in its per-sample (matched) form, mean_i(cos(t_i, n_i) -
# cos(t_i, v_i)) + 2, instead of the authors' all-pairs form.
_base_ = ['../kent_swin-t_rafdb.py']
model = dict(head=dict(loss_contrast=dict(mode='matched')))
