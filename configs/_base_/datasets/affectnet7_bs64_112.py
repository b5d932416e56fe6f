_base_ = ['./fer_loaders_bs64_112.py']

# AffectNet-7 (contempt and codes 8-10 dropped): data/affectnet/
# training.csv, validation.csv, Manually_Annotated_Images/ (or the face crops
# of tools/dataset_converters/prepare_affectnet.py in the same layout;
# layout='npy' reads the per-image numpy release).
dataset_type = 'AffectNet'
data_root = 'data/affectnet'
# Expression codes 0..6, canonical names.
classes = ('neutral', 'happiness', 'sadness', 'surprise', 'fear', 'disgust',
           'anger')
num_classes = len(classes)
data_preprocessor = dict(num_classes=num_classes)

train_dataloader = dict(
    dataset=dict(type=dataset_type, data_root=data_root,
                 num_classes=num_classes))
# AffectNet has no public test set: the official validation.csv is the
# test set. It also serves as val here, for monitoring only: no model
# selection on it (report the last epoch).
val_dataloader = dict(
    dataset=dict(type=dataset_type, data_root=data_root,
                 num_classes=num_classes, split='test'))
test_dataloader = dict(
    dataset=dict(type=dataset_type, data_root=data_root,
                 num_classes=num_classes))

# AffectNet's training set is long-tailed. Class-balanced sampling with
# MMEngine's wrapper (square-root repeat factors, see docs/datasets.md):
# train_dataloader = dict(dataset=dict(
#     _delete_=True, type='ClassBalancedDataset', oversample_thr=0.1,
#     dataset=dict(type=dataset_type, data_root=data_root, split='train',
#                  num_classes=num_classes,
#                  pipeline={{_base_.train_pipeline}})))
