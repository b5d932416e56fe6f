_base_ = ['./fer_loaders_bs64_112.py']

# FERPlus: data/ferplus/fer2013new.csv + FER2013Train|Valid|Test/*.png (see
# tools/dataset_converters/prepare_ferplus.py). Majority labels on every
# split, as the official code evaluates (and KENT's head needs hard labels).
dataset_type = 'FERPlus'
data_root = 'data/ferplus'
# fer2013new.csv column order, canonical names.
classes = ('neutral', 'happiness', 'surprise', 'sadness', 'anger', 'disgust',
           'fear', 'contempt')
num_classes = len(classes)
data_preprocessor = dict(num_classes=num_classes)

train_dataloader = dict(
    dataset=dict(type=dataset_type, data_root=data_root,
                 label_mode='majority'))
# Official splits: val = FER2013Valid, test = FER2013Test.
val_dataloader = dict(
    dataset=dict(type=dataset_type, data_root=data_root,
                 label_mode='majority'))
test_dataloader = dict(
    dataset=dict(type=dataset_type, data_root=data_root,
                 label_mode='majority'))
# Model selection on the validation split: the checkpoint of the best
# FER2013Valid top-1 is kept; FER2013Test is only used by tools/test.py.
model_selection = dict(save_best='accuracy/top1', rule='greater')
