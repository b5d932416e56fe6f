# DeepFEVER on ResNet-18: shared encoder (ResNet-18 + GAP -> 512-D feature)
# with two heads, routed by task name (see kent_mm/models/classifiers):
#   expression: expression CE + valence/arousal (1 - CCC)   (AffectNet)
#   triplet:    FEC 16-D embedding, triplet loss             (FEC)
_base_ = ['./baseline_resnet18.py']

model = dict(
    _delete_=True,
    type='DeepFEVER',
    # The ImageNet ResNet-18 of ./baseline_resnet18.py (offline:
    # model.backbone.init_cfg=None). The (backbone, dataset) config sets the
    # data preprocessor and heads.expression.num_classes from the dataset
    # file.
    backbone=_base_.model.backbone,
    neck=dict(type='GlobalAveragePooling'),
    heads=dict(
        expression=dict(
            type='ExpressionVAHead',
            in_channels=512,
            loss=dict(type='CrossEntropyLoss', loss_weight=1.0),
            # None removes the V/A branch (datasets without V/A labels).
            loss_va=dict(type='CCCLoss', loss_weight=1.0),
            topk=(1, )),
        triplet=dict(
            type='FECTripletHead',
            in_channels=512,
            mid_channels=512,
            embed_dims=16,  # the FEC paper's embedding size
            # margins: FECTripletLoss's default (the FEC paper's).
            loss=dict(type='FECTripletLoss', loss_weight=1.0))),
    # L = 1.0 * (CE + CCC) + 1.0 * triplet
    task_weights=dict(expression=1.0, triplet=1.0),
    main_task='expression',
    triplet_task='triplet',
)
