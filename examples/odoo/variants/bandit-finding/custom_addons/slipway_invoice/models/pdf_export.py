import subprocess


def render(path):
    return subprocess.call("wkhtmltopdf " + path + " out.pdf", shell=True)
