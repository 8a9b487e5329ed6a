# Broken variant "test-import-error": the tests import a package the image does not have.
import xlsxwriter  # noqa: F401


def test_exports_an_invoice_to_xlsx():
    assert xlsxwriter.Workbook
