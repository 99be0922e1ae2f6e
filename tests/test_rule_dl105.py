"""DL105 bgr-rgb-mix: OpenCV's BGR arrays and RGB consumers (and the reverse), unconverted."""

from lintutil import lines, messages


def test_cv2_image_saved_through_pil_and_shown_with_matplotlib():
    source = '''
        import cv2
        import matplotlib.pyplot as plt
        from PIL import Image

        def save_crop(path, box, out_path):
            img = cv2.imread(path)
            if img is None:
                raise FileNotFoundError(path)
            x0, y0, x1, y1 = box
            crop = cv2.resize(img[y0:y1, x0:x1], (160, 160)).astype("uint8")
            Image.fromarray(crop).save(out_path)
            fig, ax = plt.subplots()
            ax.imshow(img)
    '''
    assert lines(source, "DL105") == [12, 14]
    first = messages(source, "DL105")[0]
    assert "takes RGB images" in first and "is BGR" in first and "COLOR_BGR2RGB" in first


def test_video_frames_and_decoded_bytes():
    source = '''
        import cv2
        import imageio
        import numpy as np

        cap = cv2.VideoCapture("clip.mp4")
        frames = []
        while True:
            ok, frame = cap.read()
            if not ok:
                break
            frames.append(frame)
            imageio.imwrite("first.png", frame)
        img = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
        imageio.imwrite("decoded.png", img)
    '''
    assert lines(source, "DL105") == [13, 15]


def test_rgb_arrays_into_opencv_writers():
    source = '''
        import cv2
        import imageio
        import numpy as np
        from PIL import Image

        img = np.asarray(Image.open(path).convert("RGB"))
        cv2.imwrite("out.jpg", img)
        frame = imageio.imread("frame.png")
        cv2.imshow("frame", frame)
    '''
    assert lines(source, "DL105") == [8, 10]
    assert "takes BGR images" in messages(source, "DL105")[0]


def test_converted_or_grayscale_images_are_quiet():
    sources = [
        '''
        import cv2
        from PIL import Image
        img = cv2.cvtColor(cv2.imread(path), cv2.COLOR_BGR2RGB)
        Image.fromarray(img).save(out)
        ''',
        '''
        import cv2
        import matplotlib.pyplot as plt
        im = cv2.imread(path)
        im = im[:, :, (2, 1, 0)]
        plt.imshow(im)
        plt.imshow(cv2.imread(path)[..., ::-1])
        ''',
        '''
        import cv2
        from PIL import Image
        gray = cv2.imread(path, 0)
        Image.fromarray(gray).save(out)
        mask = cv2.imread(path, cv2.IMREAD_GRAYSCALE)
        Image.fromarray(mask).save(out)
        ''',
        # OpenCV in, OpenCV out; RGB in, RGB out.
        '''
        import cv2
        import imageio
        img = cv2.imread(path)
        cv2.imwrite(out, cv2.flip(img, 1))
        rgb = imageio.imread(path)
        imageio.imwrite(out, rgb)
        ''',
        # A name rebound in a branch, or by an unknown call, is not followed.
        '''
        import cv2
        from PIL import Image
        img = cv2.imread(path)
        if to_rgb:
            img = img[..., ::-1]
        Image.fromarray(img).save(out)
        img2 = preprocess(cv2.imread(path))
        Image.fromarray(img2).save(out)
        ''',
    ]
    for source in sources:
        assert lines(source, "DL105") == [], source
