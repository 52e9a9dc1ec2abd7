"""Journeys of the Team settings: an owner invites a receptionist who sets a
password and logs in; a forgotten password is reset by e-mail; a deactivated
person cannot log in.

The pages run in English (the browser asks for it), so the labels read here
are the source strings. E-mails come from pytest-django's locmem outbox: the
live server runs in this process and Celery runs tasks inline.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from playwright.sync_api import expect

from tests.factories import PASSWORD

NEW_PASSWORD = "a-fresh-Passw0rd-42"


@pytest.fixture
def english(browser, live_server) -> Iterator[object]:
    context = browser.new_context(viewport={"width": 1366, "height": 900}, locale="en-US")
    context.set_default_timeout(15_000)
    yield context
    context.close()


def _page(context, live_server):
    page = context.new_page()
    page.base_url = live_server.url
    return page


def _log_in(page, username: str, password: str) -> None:
    page.goto(page.base_url + "/accounts/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()


def _path(body: str, pattern: str) -> str:
    return re.search(rf"https?://[^/\s]+({pattern}\S*/)", body).group(1)


@pytest.mark.django_db(transaction=True)
def test_an_owner_invites_a_receptionist_who_sets_a_password_and_logs_in(
    english, live_server, alice, bob, mailoutbox, screenshot_dir
) -> None:
    owner = _page(english, live_server)
    _log_in(owner, "alice", PASSWORD)
    expect(owner).to_have_url(owner.base_url + "/")
    owner.goto(owner.base_url + "/settings/")
    owner.get_by_test_id("settings-team").click()
    expect(owner.get_by_test_id("team-member")).to_have_count(2)

    owner.get_by_test_id("team-invite").click()
    owner.get_by_label("First name").fill("Nina")
    owner.get_by_label("Last name").fill("Costa")
    owner.get_by_label("E-mail").fill("nina@example.com")
    owner.get_by_label("Role").select_option(label="Receptionist")
    expect(owner.get_by_label("Alpha Central")).to_be_checked()
    owner.get_by_role("button", name="Send invitation").click()

    expect(owner).to_have_url(owner.base_url + "/settings/team/")
    expect(owner.get_by_text("Invitation sent to nina@example.com.")).to_be_visible()
    nina_row = owner.get_by_test_id("team-member").filter(has_text="Nina Costa")
    expect(nina_row).to_contain_text("Invited")
    expect(nina_row).to_contain_text("Not yet accepted")
    owner.screenshot(path=str(screenshot_dir / "team-invited.png"), full_page=True)
    owner.set_viewport_size({"width": 390, "height": 844})
    assert owner.evaluate("document.documentElement.scrollWidth") <= 390
    expect(nina_row).to_contain_text("Alpha Central")
    owner.screenshot(path=str(screenshot_dir / "team-invited-phone.png"), full_page=True)

    assert [message.to for message in mailoutbox] == [["nina@example.com"]]
    link = _path(mailoutbox[0].body, "/accounts/invitation/")

    invitee_context = english.browser.new_context(viewport={"width": 390, "height": 844}, locale="en-US")
    try:
        invitee = _page(invitee_context, live_server)
        invitee.goto(invitee.base_url + link)
        expect(invitee.get_by_role("heading", name="Welcome, Nina")).to_be_visible()
        expect(invitee).to_have_url(re.compile(r"/set-password/$"))  # the token left the address bar
        invitee.get_by_label("New password").first.fill(NEW_PASSWORD)
        invitee.get_by_label("New password confirmation").fill(NEW_PASSWORD)
        invitee.screenshot(path=str(screenshot_dir / "team-invitation-accept.png"), full_page=True)
        invitee.get_by_role("button", name="Activate my account").click()
        expect(invitee).to_have_url(invitee.base_url + "/")
        expect(invitee.get_by_text("Welcome, Nina! Your account is ready.")).to_be_visible()

        # The link is spent; she logs in with her e-mail address from now on.
        invitee.goto(invitee.base_url + link)
        expect(invitee.get_by_test_id("invitation-invalid")).to_be_visible()
        invitee_context.clear_cookies()
        _log_in(invitee, "nina@example.com", NEW_PASSWORD)
        expect(invitee).to_have_url(invitee.base_url + "/")
    finally:
        invitee_context.close()

    owner.reload()
    expect(owner.get_by_test_id("team-member").filter(has_text="Nina Costa")).to_contain_text("Active")


@pytest.mark.django_db(transaction=True)
def test_a_forgotten_password_is_reset_by_e_mail(english, live_server, alice, mailoutbox, screenshot_dir) -> None:
    page = _page(english, live_server)
    page.goto(page.base_url + "/accounts/login/")
    page.get_by_role("link", name="Forgot your password?").click()
    page.get_by_label("Email").fill("alice@example.com")
    page.get_by_role("button", name="Send the link").click()
    expect(page.get_by_role("heading", name="Check your e-mail")).to_be_visible()

    assert [message.to for message in mailoutbox] == [["alice@example.com"]]
    page.goto(page.base_url + _path(mailoutbox[0].body, "/accounts/password/reset/"))
    expect(page.get_by_role("heading", name="Choose a new password")).to_be_visible()
    page.get_by_label("New password").first.fill(NEW_PASSWORD)
    page.get_by_label("New password confirmation").fill(NEW_PASSWORD)
    page.screenshot(path=str(screenshot_dir / "password-reset-confirm.png"), full_page=True)
    page.get_by_role("button", name="Save the new password").click()
    expect(page.get_by_role("heading", name="Your password was changed.")).to_be_visible()

    page.get_by_role("link", name="Log in", exact=True).click()
    _log_in(page, "alice", NEW_PASSWORD)
    expect(page).to_have_url(page.base_url + "/")


@pytest.mark.django_db(transaction=True)
def test_a_deactivated_receptionist_cannot_log_in(english, live_server, alice, bob) -> None:
    owner = _page(english, live_server)
    _log_in(owner, "alice", PASSWORD)
    owner.goto(owner.base_url + f"/settings/team/{bob.pk}/")
    owner.once("dialog", lambda dialog: dialog.accept())
    owner.get_by_test_id("member-deactivate").click()
    expect(owner.get_by_test_id("member-status")).to_have_text("Deactivated")
    expect(owner.get_by_test_id("member-history")).to_contain_text("Deactivated")

    other = english.browser.new_context(locale="en-US")
    try:
        page = _page(other, live_server)
        _log_in(page, "bob", PASSWORD)
        expect(page).to_have_url(re.compile(r"/accounts/login/$"))
        expect(page.get_by_test_id("form-errors")).to_be_visible()
    finally:
        other.close()


@pytest.mark.django_db(transaction=True)
def test_an_owner_logs_a_member_out_everywhere_who_then_manages_their_own_access(
    english, live_server, alice, bob, screenshot_dir
) -> None:
    from clinic import tokens

    tokens.token_issue(user=bob, name="Zapier")
    tokens.token_issue(user=bob, name="Old script")
    phone_context = english.browser.new_context(viewport={"width": 390, "height": 844}, locale="en-US")
    try:
        phone = _page(phone_context, live_server)
        _log_in(phone, "bob", PASSWORD)
        owner = _page(english, live_server)
        _log_in(owner, "alice", PASSWORD)
        owner.goto(owner.base_url + f"/settings/team/{bob.pk}/")
        expect(owner.get_by_test_id("open-sessions")).to_have_text("1")
        expect(owner.get_by_test_id("api-tokens")).to_contain_text("Zapier")
        owner.screenshot(path=str(screenshot_dir / "team-member-tokens.png"), full_page=True)
        owner.set_viewport_size({"width": 390, "height": 844})
        owner.screenshot(path=str(screenshot_dir / "team-member-tokens-390.png"), full_page=True)
        owner.set_viewport_size({"width": 1366, "height": 900})
        # One token first (a script that should no longer connect): the rest stays.
        asked: list[str] = []
        owner.once("dialog", lambda dialog: (asked.append(dialog.message), dialog.accept()))
        owner.get_by_test_id("api-tokens").locator("div", has_text="Old script").get_by_test_id(
            "member-token-revoke"
        ).click()
        expect(owner.get_by_text(f"An API token of {bob} was revoked")).to_be_visible()
        assert asked == ["Revoke the token “Old script”? The program that uses it can no longer connect."]
        expect(owner.get_by_test_id("api-tokens")).not_to_contain_text("Old script")
        expect(owner.get_by_test_id("api-tokens")).to_contain_text("Zapier")
        expect(owner.get_by_test_id("member-history")).to_contain_text("API token “Old script” revoked")
        expect(owner.get_by_test_id("open-sessions")).to_have_text("1")
        asked.clear()
        owner.once("dialog", lambda dialog: (asked.append(dialog.message), dialog.accept()))
        owner.get_by_test_id("member-log-out").click()
        expect(owner.get_by_text("was logged out of every browser")).to_be_visible()
        assert asked == [f"Log {bob} out of every browser and revoke their API tokens?"]
        expect(owner.get_by_test_id("api-tokens")).to_have_text("None")
        expect(owner.get_by_test_id("open-sessions")).to_have_text("None")
        expect(owner.get_by_test_id("member-log-out")).to_have_count(0)  # nothing left to end
        expect(owner.get_by_test_id("member-history")).to_contain_text("Logged out everywhere")
        phone.reload()
        expect(phone).to_have_url(re.compile(r"/accounts/login/"))  # the phone was logged out

        # Bob logs in again on two browsers and, on his phone, ends the other one.
        laptop = _page(english.browser.new_context(locale="en-US"), live_server)
        _log_in(laptop, "bob", PASSWORD)
        tokens.token_issue(user=bob, name="Spreadsheet")
        _log_in(phone, "bob", PASSWORD)
        phone.goto(phone.base_url + "/accounts/access/")
        expect(phone.get_by_test_id("open-sessions")).to_contain_text("2 browsers")
        phone.screenshot(path=str(screenshot_dir / "your-access-390.png"), full_page=True)
        revocations: list[str] = []
        phone.on("request", lambda request: revocations.append(request.url) if "/revoke/" in request.url else None)
        phone.once("dialog", lambda dialog: dialog.dismiss())  # a second thought: nothing is sent
        phone.get_by_test_id("token-revoke").click()
        phone.once("dialog", lambda dialog: dialog.accept())
        phone.get_by_test_id("token-revoke").click()
        expect(phone.get_by_text("The token was revoked")).to_be_visible()
        assert len(revocations) == 1
        expect(phone.get_by_test_id("api-tokens")).to_contain_text("No API tokens")
        phone.once("dialog", lambda dialog: dialog.accept())
        phone.get_by_test_id("log-out-elsewhere").click()
        expect(phone.get_by_text("Logged out of 1 other browser.")).to_be_visible()
        laptop.reload()
        expect(laptop).to_have_url(re.compile(r"/accounts/login/"))
        phone.reload()
        expect(phone).to_have_url(re.compile(r"/accounts/access/$"))  # this one stays
        laptop.context.close()
    finally:
        phone_context.close()
