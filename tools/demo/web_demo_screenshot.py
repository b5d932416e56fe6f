"""Browser check of the web demo: upload a group photo, screenshot the page.

Starts ``tools/demo/web_demo.py`` on a free local port, opens it in
headless Chromium through Selenium (Debian: ``apt-get install chromium
chromium-driver``; ``pip install selenium``), uploads a picture with several
faces, waits for the result (boxed faces, probability bars, the CSV link)
and saves a full-page PNG. Exit code 0 when the page showed a boxed face
per expected face.

The default picture is composed from public-domain images that ship with
scikit-image (the astronaut Eileen Collins and the cameraman), and, with
``--faces-root``, real FER2013 test faces pasted beside them.

Example::

    python tools/demo/web_demo_screenshot.py --out docs/web_demo.png \\
        --faces-root data/fer2013/test -- --model NAME --checkpoint FILE
"""
import argparse
import glob
import os
import os.path as osp
import socket
import subprocess
import sys
import tempfile
import time

import cv2
import numpy as np

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--out', default='web_demo.png',
                        help='screenshot file (PNG)')
    parser.add_argument('--image', help='picture to upload (default: a '
                        'composed group photo)')
    parser.add_argument('--faces-root',
                        help='FER2013-style face crops to add to the group '
                        'photo (<class>/*.jpg)')
    parser.add_argument('--chromedriver', default='/usr/bin/chromedriver')
    parser.add_argument('--chromium', default='/usr/bin/chromium')
    parser.add_argument('--width', type=int, default=1280)
    parser.add_argument('--timeout', type=float, default=300,
                        help='seconds to wait for the server and the result')
    parser.add_argument('demo_args', nargs=argparse.REMAINDER,
                        help='after --: arguments of web_demo.py')
    return parser.parse_args(argv)


def group_photo(faces_root=None, seed: int = 0) -> np.ndarray:
    """A 1024x512 BGR picture with several faces.

    The astronaut and the cameraman from scikit-image (public domain), side
    by side; with ``faces_root``, four FER2013 faces (one per class folder,
    sorted) scaled to 110 px and pasted on the cameraman's sky.
    """
    from skimage import data
    left = cv2.cvtColor(data.astronaut(), cv2.COLOR_RGB2BGR)
    right = cv2.cvtColor(data.camera(), cv2.COLOR_GRAY2BGR)
    img = np.hstack([left, right])
    if faces_root:
        folders = sorted(glob.glob(osp.join(faces_root, '*')))
        spots = [(560, 20), (700, 20), (840, 20), (860, 160)]
        rng = np.random.default_rng(seed)
        for folder, (x, y) in zip(folders, spots):
            files = sorted(glob.glob(osp.join(folder, '*.jpg')))
            if not files:
                continue
            face = cv2.imread(files[rng.integers(len(files))])
            img[y:y + 110, x:x + 110] = cv2.resize(
                face, (110, 110), interpolation=cv2.INTER_CUBIC)
    return img


def free_port() -> int:
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def wait_for_server(proc, port: int, timeout: float) -> None:
    start = time.time()
    while time.time() - start < timeout:
        if proc.poll() is not None:
            raise RuntimeError(f'web_demo.py exited with {proc.returncode}.')
        try:
            with socket.create_connection(('127.0.0.1', port), timeout=1):
                return
        except OSError:
            time.sleep(0.5)
    raise TimeoutError(f'web_demo.py did not listen on port {port} within '
                       f'{timeout:.0f} s.')


def screenshot(url: str, image: str, out: str, args) -> int:
    """Upload ``image`` at ``url``; save the result page; boxed faces."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait

    options = webdriver.ChromeOptions()
    options.binary_location = args.chromium
    for flag in ('--headless=new', '--no-sandbox', '--disable-gpu',
                 '--disable-dev-shm-usage', f'--window-size={args.width},900'):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(args.chromedriver),
                              options=options)
    try:
        driver.get(url)
        driver.find_element(By.ID, 'files').send_keys(osp.abspath(image))
        driver.find_element(By.ID, 'submit').click()
        WebDriverWait(driver, args.timeout).until(
            ec.presence_of_element_located((By.CSS_SELECTOR, '.item img')))
        cards = driver.find_elements(By.CSS_SELECTOR, '.card')
        bars = driver.find_elements(By.CSS_SELECTOR, '.card .bar')
        csv = driver.find_elements(By.ID, 'csv')
        # The whole page in one picture.
        height = driver.execute_script(
            'return document.documentElement.scrollHeight')
        driver.set_window_size(args.width, min(int(height) + 200, 4000))
        time.sleep(0.5)
        driver.save_screenshot(out)
    finally:
        driver.quit()
    print(f'{len(cards)} face(s) with {len(bars)} probability bars, CSV '
          f"link: {'yes' if csv else 'no'} -> {out}")
    return len(cards)


def main(argv=None) -> int:
    args = parse_args(argv)
    demo_args = [a for a in args.demo_args if a != '--']
    with tempfile.TemporaryDirectory() as tmp:
        image = args.image
        if image is None:
            image = osp.join(tmp, 'group.jpg')
            cv2.imwrite(image, group_photo(args.faces_root))
        port = free_port()
        log = open(osp.join(tmp, 'server.log'), 'w')
        proc = subprocess.Popen(
            [sys.executable, osp.join(REPO, 'tools', 'demo', 'web_demo.py'),
             '--port', str(port), *demo_args],
            stdout=log, stderr=subprocess.STDOUT, cwd=REPO,
            env=dict(os.environ, PYTHONUNBUFFERED='1'))
        try:
            wait_for_server(proc, port, args.timeout)
            faces = screenshot(f'http://127.0.0.1:{port}/', image, args.out,
                               args)
        except Exception:
            log.flush()
            print(open(log.name).read()[-3000:])
            raise
        finally:
            proc.terminate()
            proc.wait(timeout=30)
            log.close()
    return 0 if faces else 1


if __name__ == '__main__':
    sys.exit(main())
