_base_ = ['./fer_loaders_bs64_112.py']

# CK+: data/ckplus/cohn-kanade-images/ + Emotion/. 7 classes = the six basic
# expressions + contempt, last 3 frames of each labelled sequence,
# subject-independent 10-fold cross-validation: train on 9 folds, test on
# fold `fold`; run fold=0..9 (--cfg-options for each dataloader) and report
# the mean.
dataset_type = 'CKPlus'
data_root = 'data/ckplus'
fold = 0
# CK+ codes 1..7, canonical names.
classes = ('anger', 'contempt', 'disgust', 'fear', 'happiness', 'sadness',
           'surprise')
num_classes = len(classes)
data_preprocessor = dict(num_classes=num_classes)

train_dataloader = dict(
    dataset=dict(type=dataset_type, data_root=data_root, fold=fold,
                 num_classes=num_classes))
# No validation split: val = the test fold, for monitoring only.
val_dataloader = dict(
    dataset=dict(type=dataset_type, data_root=data_root, fold=fold,
                 num_classes=num_classes, split='test'))
test_dataloader = dict(
    dataset=dict(type=dataset_type, data_root=data_root, fold=fold,
                 num_classes=num_classes))
