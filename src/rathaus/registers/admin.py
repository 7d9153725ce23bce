from django.contrib import admin

from rathaus.registers.models import Election


@admin.register(Election)
class ElectionAdmin(admin.ModelAdmin[Election]):
    list_display = ["name", "municipality", "election_day", "postal_vote_deadline"]
    list_filter = ["municipality"]
    date_hierarchy = "election_day"
