_base_ = ['./affectnet7_bs64_112.py']

# AffectNet-8: AffectNet-7 + contempt (code 7); codes 8-10 still dropped.
classes = ('neutral', 'happiness', 'sadness', 'surprise', 'fear', 'disgust',
           'anger', 'contempt')
num_classes = len(classes)
data_preprocessor = dict(num_classes=num_classes)

train_dataloader = dict(dataset=dict(num_classes=num_classes))
val_dataloader = dict(dataset=dict(num_classes=num_classes))
test_dataloader = dict(dataset=dict(num_classes=num_classes))
