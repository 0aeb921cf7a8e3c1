"""Certificates are re-checked by fresh plain Z3 queries: good ones pass, bad ones fail."""

from __future__ import annotations

from dataclasses import replace

import pytest
from unbounded import spec

from fusever import certificate, kind
from fusever.certificate import Certificate
from fusever.job import Job
from fusever.verdict import Options


def test_every_kind_certificate_rechecks() -> None:
    for name in ("inductive", "k2", "lemma"):
        ts = spec(name)
        out = kind.run(Job.resolve(ts, Options()))
        assert out.certificates
        for cert in out.certificates:
            assert certificate.recheck(ts, cert), cert


def test_a_too_small_k_fails_the_recheck() -> None:
    ts = spec("k2")
    (cert,) = kind.run(Job.resolve(ts, Options())).certificates
    assert cert.k == 2
    assert not certificate.recheck(ts, replace(cert, k=1))


def test_a_missing_lemma_fails_the_recheck() -> None:
    ts = spec("lemma")
    (cert,) = [c for c in kind.run(Job.resolve(ts, Options())).certificates if c.property == "five"]
    assert not certificate.recheck(ts, replace(cert, lemmas=()))


def test_a_property_that_fails_later_has_no_valid_certificate() -> None:
    ts = spec("late")
    for k in range(1, 9):
        for prop in ("below6", "ghost_below6", "reach6"):
            cert = Certificate("kind", ts.name, prop, k=k, por="adjacent")
            assert not certificate.recheck(ts, cert), (prop, k)


def test_certificates_name_their_spec_and_property() -> None:
    ts = spec("k2")
    (cert,) = kind.run(Job.resolve(ts, Options())).certificates
    assert not certificate.recheck(ts, replace(cert, spec="other"))
    assert not certificate.recheck(ts, replace(cert, property="nope"))
    assert not certificate.recheck(ts, replace(cert, engine="magic"))


def test_certificates_round_trip_through_plain_data() -> None:
    ts = spec("lemma")
    out = kind.run(Job.resolve(ts, Options()))
    for cert in out.certificates:
        data = certificate.as_dict(cert)
        assert certificate.from_dict(data) == cert
        assert certificate.recheck(ts, certificate.from_dict(data))
    chc_cert = Certificate("chc", "s", "p", invariant="a == b", smtlib="(= a@0 b@0)")
    assert certificate.from_dict(certificate.as_dict(chc_cert)) == chc_cert
    with pytest.raises(ValueError):
        certificate.from_dict({"engine": "kind", "spec": "s"})
    with pytest.raises(ValueError):
        certificate.from_dict({"engine": "kind", "spec": "s", "property": "p", "k": "2"})


def test_a_recheck_past_its_deadline_is_undecided_not_failed() -> None:
    import time

    ts = spec("k2")
    (cert,) = kind.run(Job.resolve(ts, Options())).certificates
    past = time.monotonic() - 1
    assert certificate.recheck_status(ts, cert, past) is certificate.Recheck.UNDECIDED
    assert certificate.recheck_status(ts, cert) is certificate.Recheck.PASSED
    assert certificate.recheck_status(ts, replace(cert, k=1)) is certificate.Recheck.FAILED
    ends = Certificate("kind", ts.name, cert.property, longest=3)
    assert certificate.recheck_statuses(ts, [ends], past) == (certificate.Recheck.UNDECIDED,)
    assert certificate.recheck_statuses(ts, [replace(ends, longest=-1)]) == (
        certificate.Recheck.FAILED,
    )
