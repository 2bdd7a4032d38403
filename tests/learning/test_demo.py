import pytest

from opsdesk.accounts.models import User
from opsdesk.core.audit import acting
from opsdesk.learning.models import Certification, LearningPath, StepCompletion, TrainingRecord
from opsdesk.learning.selectors import my_learning
from opsdesk.web.demo import learning, people
from tests.learning.factories import ArticleFactory


@pytest.mark.django_db
def test_demo_learning_loads_once_with_expiring_certificates_and_two_paths():
    admin = people.load_admin()
    with acting(actor=admin):
        people.load_people(admin)
        ArticleFactory.create_batch(12)
        assert learning.load_learning(admin) == 12
        assert learning.load_learning(admin) == 0
    assert TrainingRecord.objects.count() == 5
    assert Certification.objects.filter(status="expiring").count() == 2
    assert Certification.objects.filter(status="expired").count() == 1
    assert LearningPath.objects.count() == 2 and StepCompletion.objects.count() == 3
    agent = User.objects.get(username="agent")
    assert {row.path.name for row in my_learning(user=agent)} == {
        "Service Desk onboarding",
        "Network first response",
    }
