# Ablation (the paper's Fig. 4): ordinary contrastive learning across
# samples instead of self-contrast: the negatives of anchor t_i are the
# v_j of samples of other classes, not n_i = F_n(v_i).
_base_ = ['../kent_resnet18_rafdb.py']
model = dict(head=dict(loss_contrast=dict(mode='cross_sample')))
