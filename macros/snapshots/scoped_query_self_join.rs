fn expansion() {
    {
        const _: () = {
            if !::gauntlet::__private::query::same_identifier(
                <Invoice as ::gauntlet::__private::ResourceSql>::TABLE,
                "invoices",
            ) {
                ::core::panic!(
                    "{}", ::gauntlet::__private::query::Message::new(&
                    ["this query selects from `invoices`, but `", < Invoice as
                    ::gauntlet::__private::ResourceSql > ::NAME,
                    "` rows are stored in table `",
                    ::gauntlet::__private::query::unquote(< Invoice as
                    ::gauntlet::__private::ResourceSql > ::TABLE), "`"]).as_str()
                )
            }
        };
        const _: () = {
            if ::gauntlet::__private::query::same_identifier(
                <Invoice as ::gauntlet::__private::ResourceSql>::TABLE,
                "invoices",
            )
                && !::gauntlet::__private::query::names_identifier(
                    <Invoice as ::gauntlet::__private::ResourceSql>::OWNER_COLUMN,
                    &["owner_id"],
                )
            {
                ::core::panic!(
                    "{}", ::gauntlet::__private::query::Message::new(&
                    ["the WHERE clause that reads `invoices` does not bind the owner column to the caller; add `AND i.",
                    ::gauntlet::__private::query::unquote(< Invoice as
                    ::gauntlet::__private::ResourceSql > ::OWNER_COLUMN),
                    " = :caller` as a top-level condition (`owner_id` bound to `:caller` here is not the owner column of `",
                    < Invoice as ::gauntlet::__private::ResourceSql > ::NAME, "`)"])
                    .as_str()
                )
            }
        };
        const _: () = {
            if ::gauntlet::__private::query::same_identifier(
                <Invoice as ::gauntlet::__private::ResourceSql>::TABLE,
                "invoices",
            )
                && !::gauntlet::__private::query::names_identifier(
                    <Invoice as ::gauntlet::__private::ResourceSql>::OWNER_COLUMN,
                    &["owner_id"],
                )
            {
                ::core::panic!(
                    "{}", ::gauntlet::__private::query::Message::new(&
                    ["the WHERE clause that reads `invoices` does not bind the owner column to the caller; add `AND j.",
                    ::gauntlet::__private::query::unquote(< Invoice as
                    ::gauntlet::__private::ResourceSql > ::OWNER_COLUMN),
                    " = :caller` as a top-level condition (`owner_id` bound to `:caller` here is not the owner column of `",
                    < Invoice as ::gauntlet::__private::ResourceSql > ::NAME, "`)"])
                    .as_str()
                )
            }
        };
        const __GAUNTLET_SQL: &[::gauntlet::__private::query::Segment] = &[
            ::gauntlet::__private::query::Segment::Sql("SELECT "),
            ::gauntlet::__private::query::Segment::Columns("i"),
            ::gauntlet::__private::query::Segment::Sql(
                " FROM invoices AS i JOIN invoices AS j ON j.customer_name = i.customer_name WHERE i.owner_id = ",
            ),
            ::gauntlet::__private::query::Segment::Param(1usize),
            ::gauntlet::__private::query::Segment::Sql(" AND j.owner_id = "),
            ::gauntlet::__private::query::Segment::Param(1usize),
            ::gauntlet::__private::query::Segment::Sql(" AND j.note = "),
            ::gauntlet::__private::query::Segment::Param(2usize),
            ::gauntlet::__private::query::Segment::Sql(" ORDER BY i.id"),
        ];
        ::gauntlet::__private::query::select::<
            Invoice,
        >(__GAUNTLET_SQL, ::std::vec![::gauntlet::__private::query::argument(note)])
    }
}
