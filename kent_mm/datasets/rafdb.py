"""RAF-DB (basic) in its official layout."""
import os
import os.path as osp
from typing import List

from mmpretrain.registry import DATASETS

from .base import FERDataset
from .emotions import RAFDB_CODES
from .errors import AnnotationError
from .parsing import check_choice


@DATASETS.register_module()
class RAFDB(FERDataset):
    """RAF-DB basic expression set, read exactly as distributed.

    Layout (``data_root``)::

        EmoLabel/list_patition_label.txt   # "train_00001.jpg 5" per line
        Image/aligned/train_00001_aligned.jpg
        Image/original/train_00001.jpg

    Official labels 1..7 are Surprise, Fear, Disgust, Happiness, Sadness,
    Anger, Neutral; they become class indices 0..6 in that order (canonical
    names). The split comes from the file-name prefix (``train_``/``test_``).

    Args:
        data_root (str): Dataset root.
        split (str): ``'train'`` or ``'test'``.
        image_type (str): ``'aligned'`` (100x100 aligned faces, the usual
            choice) or ``'original'``.
        ann_file (str): Label file, relative to ``data_root``.
        **kwargs: Passed to :class:`FERDataset`.
    """

    METAINFO = dict(classes=tuple(RAFDB_CODES.values()))
    SPLITS = ('train', 'test')
    IMAGE_TYPES = ('aligned', 'original')

    def __init__(self,
                 data_root: str,
                 split: str = 'train',
                 image_type: str = 'aligned',
                 ann_file: str = 'EmoLabel/list_patition_label.txt',
                 **kwargs) -> None:
        check_choice('RAF-DB', 'split', split, self.SPLITS)
        check_choice('RAF-DB', 'image_type', image_type, self.IMAGE_TYPES)
        self.split = split
        self.image_type = image_type
        kwargs.setdefault('data_prefix', osp.join('Image', image_type))
        super().__init__(ann_file=ann_file, data_root=data_root, **kwargs)

    def _image_name(self, name: str) -> str:
        if self.image_type == 'aligned':
            stem, _ = osp.splitext(name)
            return f'{stem}_aligned.jpg'
        return name

    def load_data_list(self) -> List[dict]:
        """Parse the label file; every line is checked, nothing is dropped."""
        num_classes = len(self.METAINFO['classes'])
        img_dir = self.data_prefix['img_path']
        if not osp.isdir(img_dir):
            raise FileNotFoundError(
                f'RAF-DB image folder {img_dir} does not exist (image_type='
                f'{self.image_type!r}, data_root={self.data_root!r}).')
        # One directory listing instead of one stat per sample.
        existing = set(os.listdir(img_dir))
        data_list = []
        with open(self.ann_file, encoding='utf-8') as f:
            for lineno, raw in enumerate(f, start=1):
                line = raw.strip()
                if not line:
                    continue
                parts = line.split()
                if len(parts) != 2:
                    raise AnnotationError(
                        f'expected "<image name> <label>", got {line!r}',
                        self.ann_file, lineno)
                name, code = parts
                if not (name.startswith('train_')
                        or name.startswith('test_')):
                    raise AnnotationError(
                        f'image name {name!r} has neither a train_ nor a '
                        'test_ prefix', self.ann_file, lineno)
                try:
                    label = int(code)
                except ValueError:
                    raise AnnotationError(f'label {code!r} is not an integer',
                                          self.ann_file, lineno) from None
                if not 1 <= label <= num_classes:
                    raise AnnotationError(
                        f'label {label} is outside 1..{num_classes}',
                        self.ann_file, lineno)
                if not name.startswith(self.split + '_'):
                    continue
                img_name = self._image_name(name)
                if img_name not in existing:
                    raise AnnotationError(
                        f'image {osp.join(img_dir, img_name)} listed here '
                        'does not exist', self.ann_file, lineno)
                data_list.append(
                    dict(img_path=osp.join(img_dir, img_name),
                         gt_label=label - 1))
        if not data_list:
            raise AnnotationError(f'no {self.split!r} samples found',
                                  self.ann_file)
        return data_list

    def extra_repr(self) -> List[str]:
        return [f'Split: \t{self.split}', f'Image type: \t{self.image_type}']
