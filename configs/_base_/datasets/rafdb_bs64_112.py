_base_ = ['./fer_loaders_bs64_112.py']

dataset_type = 'RAFDB'
data_root = 'data/rafdb'
# Official label order 1..7, canonical names (kent_mm.datasets.RAFDB).
classes = ('surprise', 'fear', 'disgust', 'happiness', 'sadness', 'anger',
           'neutral')
num_classes = len(classes)
data_preprocessor = dict(num_classes=num_classes)

train_dataloader = dict(dataset=dict(type=dataset_type, data_root=data_root))
# RAF-DB has no validation split: val = test, for monitoring only.
val_dataloader = dict(
    dataset=dict(type=dataset_type, data_root=data_root, split='test'))
test_dataloader = dict(dataset=dict(type=dataset_type, data_root=data_root))
