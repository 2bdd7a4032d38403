"""Demo knowledge base: a dozen articles written through the real services — public how-tos
requesters find while typing a ticket, internal runbooks for the desk, one team's notes, one
draft in review, one article past its review date and one retired. Idempotent by title."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from opsdesk.accounts.models import Team, User
from opsdesk.knowledge import services
from opsdesk.knowledge.choices import ArticleStatus, Audience
from opsdesk.knowledge.models import Article
from opsdesk.portfolio.models import Service
from opsdesk.tickets.models import Category

PUBLIC, INTERNAL, TEAM = Audience.PUBLIC, Audience.INTERNAL, Audience.TEAM
PUBLISHED, IN_REVIEW, RETIRED = ArticleStatus.PUBLISHED, ArticleStatus.IN_REVIEW, ArticleStatus.RETIRED

# title, audience, status, service, category, tags, review in days (negative: overdue), body
ARTICLES = [
    (
        "Reset a forgotten password",
        PUBLIC,
        PUBLISHED,
        "Identity & Access",
        "E-mail & calendar",
        ["password", "login", "account"],
        180,
        "You can reset your password yourself, at any time.\n\n"
        "1. Open **https://password.example.com** from any device.\n"
        "2. Choose **Forgot password** and enter your e-mail address.\n"
        "3. Follow the link in the e-mail (it is valid for 15 minutes) and pick a new password.\n\n"
        "New passwords need 12 characters and cannot repeat your last five. "
        "Outlook and Teams ask for the new password once; enter it and tick *Remember me*.",
    ),
    (
        "Outlook keeps asking for my password",
        PUBLIC,
        PUBLISHED,
        "E-mail & Calendar",
        "E-mail & calendar",
        ["outlook", "password", "prompt"],
        120,
        "Outlook asks again when it still holds an old password.\n\n"
        "1. Close Outlook.\n2. Open **Credential Manager** from the Start menu.\n"
        "3. Under *Windows Credentials*, remove every entry that starts with `MicrosoftOffice`.\n"
        "4. Start Outlook and sign in once.\n\nStill asked? Raise a ticket and mention this article.",
    ),
    (
        "Connect to the VPN from home",
        PUBLIC,
        PUBLISHED,
        "Network",
        None,
        ["vpn", "remote", "home office"],
        180,
        "## Before you start\nYou need the **GlobalProtect** client (installed on every company laptop) "
        "and your authenticator app.\n\n## Connect\n1. Click the globe icon in the taskbar.\n"
        "2. Portal: `vpn.example.com`.\n3. Sign in and approve the push on your phone.\n\n"
        "## It does not connect\n- Check that your home internet works without the VPN.\n"
        "- Restart the laptop once; the client updates itself.\n- Hotel and guest networks may block it; "
        "use your phone's hotspot.",
    ),
    (
        "Add a printer in the office",
        PUBLIC,
        PUBLISHED,
        None,
        None,
        ["printer", "printing", "follow-me"],
        180,
        "All office printers share one queue, **FollowMe**.\n\n"
        "1. Open *Settings → Bluetooth & devices → Printers & scanners*.\n"
        "2. Choose **Add device**, then **FollowMe (print.example.com)**.\n"
        "3. Print, then hold your badge to any printer to release the job.\n\n"
        "Jobs wait 24 hours before they are deleted.",
    ),
    (
        "Connect guests to the Wi-Fi",
        PUBLIC,
        PUBLISHED,
        "Wi-Fi",
        None,
        ["wifi", "guest", "wireless"],
        -10,
        "Guests use the **Example-Guest** network. The reception prints a voucher valid for one day; "
        "hosts can create one at https://guest.example.com for up to a week.",
    ),
    (
        "Share a calendar in Outlook",
        PUBLIC,
        PUBLISHED,
        "E-mail & Calendar",
        "E-mail & calendar",
        ["calendar", "outlook", "share"],
        365,
        "1. In Outlook, right-click your calendar and choose **Sharing permissions**.\n"
        "2. Add your colleague and pick *Can view all details* or *Can edit*.\n"
        "3. They receive an invitation to add your calendar.\n\nShared calendars refresh every few minutes.",
    ),
    (
        "Request a new laptop or replacement",
        PUBLIC,
        PUBLISHED,
        None,
        None,
        ["laptop", "hardware", "order"],
        365,
        "Order laptops in the portal under **Request something → Laptops and phones**. Your manager "
        "approves; delivery takes five working days. A broken laptop is replaced the same day at the "
        "Berlin and London service points.",
    ),
    (
        "Set up multi-factor authentication",
        PUBLIC,
        PUBLISHED,
        "Identity & Access",
        None,
        ["mfa", "authenticator", "login", "2fa"],
        180,
        "1. Install **Microsoft Authenticator** on your phone.\n2. Go to https://mysignins.example.com "
        "and choose *Add sign-in method*.\n3. Scan the QR code.\n\nNew phone? Ask the Service Desk to "
        "reset your MFA; have your badge ready.",
    ),
    (
        "Service Desk: verifying a caller before a password reset",
        INTERNAL,
        PUBLISHED,
        "Identity & Access",
        None,
        ["password", "identity", "procedure"],
        90,
        "Never reset a password on the phone without verification.\n\n"
        "1. Call back on the number in the directory, not the one the caller gives.\n"
        "2. Ask for the employee number **and** the manager's name.\n"
        "3. VIPs: confirm with their assistant as well.\n\nLog the verification as an internal note.",
    ),
    (
        "VPN concentrator failover runbook",
        TEAM,
        PUBLISHED,
        "Network",
        None,
        ["vpn", "failover", "runbook"],
        60,
        "## When\nBoth VPN gateways report *degraded* or users cannot connect for 5 minutes.\n\n"
        "## Steps\n1. Check the HA state: `show high-availability state`.\n"
        "2. Suspend the active node: `request high-availability state suspend`.\n"
        "3. Watch sessions move: they reconnect within 60 s.\n4. Open a problem if it recurs within 24 h.",
    ),
    (
        "Teams meeting recordings: where they are kept",
        INTERNAL,
        IN_REVIEW,
        "Teams & Collaboration",
        None,
        ["teams", "recording"],
        None,
        "Recordings are stored in the organiser's OneDrive, folder *Recordings*, for 120 days. "
        "Channel meetings: the channel's SharePoint, same folder.",
    ),
    (
        "Configure the old Cisco VPN client",
        PUBLIC,
        RETIRED,
        "Network",
        None,
        ["vpn", "cisco"],
        None,
        "Replaced by GlobalProtect in 2024; kept for reference.",
    ),
]


def load_articles(admin: User) -> int:
    """Write the demo articles that are missing; returns how many were created."""
    author = User.objects.filter(username="lead").first() or admin
    network_author = User.objects.filter(teams__name="Network Operations").first() or admin
    reviewer = User.objects.filter(username="manager").first()
    network = Team.objects.filter(name="Network Operations").first()
    created = 0
    today = timezone.localdate()
    for title, audience, status, service, category, tags, review_days, body in ARTICLES:
        if Article.objects.filter(title=title).exists():
            continue
        if audience == TEAM and network is None:
            continue
        owner = network_author if audience == TEAM else author
        article = services.article_create(
            actor=owner if owner.is_agent else admin,
            title=title,
            body=body,
            audience=audience,
            team=network if audience == TEAM else None,
            tags=tags,
            services=list(Service.objects.filter(name=service)[:1]) if service else [],
            categories=list(Category.objects.filter(name=category)[:1]) if category else [],
            reviewers=[reviewer] if reviewer else [],
            review_by=today + timedelta(days=review_days) if review_days is not None else None,
            note="Demo article",
        )
        publisher = admin
        if status == IN_REVIEW:
            services.article_transition(actor=owner, article=article, to=IN_REVIEW)
        else:
            services.article_transition(actor=publisher, article=article, to=PUBLISHED)
        if status == RETIRED:
            services.article_transition(actor=publisher, article=article, to=RETIRED)
        created += 1
    services.articles_flag_expired()
    return created
