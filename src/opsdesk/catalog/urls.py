from opsdesk.catalog.views import portal, reports, staff

app_name = "catalog"

# The requester's and approver's pages (browse, order, follow, approve, delegate), the staff's
# (items, groups, task queue) and the figures each list their own routes.
urlpatterns = [*portal.urlpatterns, *staff.urlpatterns, *reports.urlpatterns]
