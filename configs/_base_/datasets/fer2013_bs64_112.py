_base_ = ['./fer_loaders_bs64_112.py']

# FER2013 in the folder layout of data/fer2013.tar.gz (layout='csv' reads
# the original fer2013.csv). 48x48 grey faces: LoadFERImage makes them
# 3-channel and the shared pipeline resizes them to 112.
dataset_type = 'FER2013'
data_root = 'data/fer2013'
# Official code order 0..6 (Angry..Neutral), canonical names.
classes = ('anger', 'disgust', 'fear', 'happiness', 'sadness', 'surprise',
           'neutral')
num_classes = len(classes)
data_preprocessor = dict(num_classes=num_classes)

train_dataloader = dict(dataset=dict(type=dataset_type, data_root=data_root))
# Official splits: val = PublicTest, test = PrivateTest.
val_dataloader = dict(dataset=dict(type=dataset_type, data_root=data_root))
test_dataloader = dict(dataset=dict(type=dataset_type, data_root=data_root))
# Model selection on the validation split: the checkpoint of the best
# PublicTest top-1 is kept (best_accuracy_top1_epoch_*.pth); PrivateTest is
# only used by tools/test.py.
model_selection = dict(save_best='accuracy/top1', rule='greater')
