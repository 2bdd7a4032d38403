from opsdesk.catalog.views import portal, staff

app_name = "catalog"

# The requester's pages (browse, order, follow, approve) and the staff's (items, groups,
# task queue, figures) are kept in two modules; their routes are listed there.
urlpatterns = [*portal.urlpatterns, *staff.urlpatterns]
