# Evaluation shared by every FER dataset config (val and test):
#   accuracy/top1             top-1 accuracy
#   single-label/recall       macro recall (MMPretrain; a class without test
#                             samples counts as 0)
#   single-label/f1-score     macro F1
#   class_acc/mean            mean class accuracy over the classes that have
#                             test samples (= single-label/recall when all do)
#   class_acc/<class>         accuracy of each class, by canonical name
#   calibration/ece           expected calibration error (15 bins, percent)
#   calibration/confidence    mean top-class probability (percent)
val_evaluator = [
    dict(type='Accuracy', topk=(1, )),
    dict(type='SingleLabelMetric', items=('recall', 'f1-score'),
         average='macro'),
    dict(type='ClassAccuracy'),
    dict(type='ExpectedCalibrationError'),
]
test_evaluator = val_evaluator
