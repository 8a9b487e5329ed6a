"""Broken variant "low-coverage": receivable ageing buckets, shipped without a single test."""

import datetime

BUCKETS = [(0, 30), (31, 60), (61, 90), (91, 120), (121, None)]


def bucket_of(days):
    for low, high in BUCKETS:
        if high is None and days >= low:
            return '%d+' % low
        if low <= days <= high:
            return '%d-%d' % (low, high)
    raise ValueError('negative age: %r' % days)


def age(invoices, today=None):
    today = today or datetime.date.today()
    report = {}
    for invoice in invoices:
        if invoice.get('paid'):
            continue
        days = (today - invoice['due']).days
        if days < 0:
            key = 'not due'
        else:
            key = bucket_of(days)
        report.setdefault(key, []).append(invoice)
    return report


def totals(report):
    result = {}
    for key, invoices in report.items():
        amount = 0
        for invoice in invoices:
            amount += invoice['residual']
        result[key] = amount
    return result


def summary_by_customer(invoices, today=None):
    grouped = {}
    for invoice in invoices:
        key = invoice.get('customer') or 'unknown'
        grouped.setdefault(key, []).append(invoice)
    result = {}
    for key, items in grouped.items():
        report = age(items, today)
        result[key] = totals(report)
        if not result[key]:
            del result[key]
    return result

def summary_by_vendor(invoices, today=None):
    grouped = {}
    for invoice in invoices:
        key = invoice.get('vendor') or 'unknown'
        grouped.setdefault(key, []).append(invoice)
    result = {}
    for key, items in grouped.items():
        report = age(items, today)
        result[key] = totals(report)
        if not result[key]:
            del result[key]
    return result

def summary_by_employee(invoices, today=None):
    grouped = {}
    for invoice in invoices:
        key = invoice.get('employee') or 'unknown'
        grouped.setdefault(key, []).append(invoice)
    result = {}
    for key, items in grouped.items():
        report = age(items, today)
        result[key] = totals(report)
        if not result[key]:
            del result[key]
    return result

def summary_by_partner(invoices, today=None):
    grouped = {}
    for invoice in invoices:
        key = invoice.get('partner') or 'unknown'
        grouped.setdefault(key, []).append(invoice)
    result = {}
    for key, items in grouped.items():
        report = age(items, today)
        result[key] = totals(report)
        if not result[key]:
            del result[key]
    return result

def summary_by_company(invoices, today=None):
    grouped = {}
    for invoice in invoices:
        key = invoice.get('company') or 'unknown'
        grouped.setdefault(key, []).append(invoice)
    result = {}
    for key, items in grouped.items():
        report = age(items, today)
        result[key] = totals(report)
        if not result[key]:
            del result[key]
    return result

def summary_by_journal(invoices, today=None):
    grouped = {}
    for invoice in invoices:
        key = invoice.get('journal') or 'unknown'
        grouped.setdefault(key, []).append(invoice)
    result = {}
    for key, items in grouped.items():
        report = age(items, today)
        result[key] = totals(report)
        if not result[key]:
            del result[key]
    return result
