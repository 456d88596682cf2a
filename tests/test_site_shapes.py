"""Page shapes of the blind batches 9 to 16 that the reader and the judge now handle, each on a
small page: CMS chrome and content wrappers, hidden accordion answers, tab buttons, tables of
other organisations, and sentences that carry their subject over."""
from tests.support import saved_page_levels


def levels(tmp_path, body: str) -> list[str]:
    return saved_page_levels(tmp_path, body)


def test_a_camel_case_footer_is_furniture(tmp_path):
    footer = ('<main><h1>Insurance</h1><p>Plans we accept.</p></main><div class="dmFooterContainer">'
              '<p><a href="/iop">Intensive Outpatient (IOP)</a></p><p>Outpatient Counseling</p></div>')
    assert levels(tmp_path, footer) == []


def test_an_accordion_answer_hidden_until_its_question_is_clicked_is_read(tmp_path):
    faq = ('<main><h1>FAQ</h1><button aria-controls="a1" aria-expanded="false"><h3>How long is it?</h3></button>'
           '<div id="a1" style="display:none"><p>Our IOP is three hours a day, three days a week.</p></div>'
           '<div style="display:none"><p>We offer residential care.</p></div></main>')
    assert levels(tmp_path, faq) == ["iop"]  # the second hidden part opens from nowhere: not read


def test_a_form_wrapping_the_whole_page_is_the_page_but_a_real_form_is_not(tmp_path):
    webforms = '<form id="aspnetForm"><main><h1>Services</h1><p>We offer intensive outpatient treatment.</p></main></form>'
    assert levels(tmp_path, webforms) == ["iop"]
    contact = ('<main><h1>Contact</h1><form><label>Program</label><select><option>Detox</option>'
               '<option>Residential</option></select></form></main>')
    assert levels(tmp_path, contact) == []


def test_typo3_frame_headers_and_siteorigin_widgets_inside_the_entry_are_content(tmp_path):
    typo3 = ('<main><header class="frame-header"><h2 class="element-header">Our programs</h2></header>'
             '<h3>Medical Detox</h3><p>Five to seven days.</p><h3>Residential Treatment</h3><p>30 days.</p></main>')
    assert levels(tmp_path, typo3) == ["detox", "residential"]
    siteorigin = ('<article><h1>Services</h1><div class="entry-content"><div class="so-panel widget">'
                  '<h3>Intensive outpatient</h3><p>We run three evenings a week, 5:30 to 8:30 pm, for ten weeks.</p>'
                  '</div></div></article><aside class="widget"><p>Detox referrals</p></aside>')
    assert levels(tmp_path, siteorigin) == ["iop"]


def test_tab_buttons_are_items_and_a_pane_that_refers_rules_its_level_out(tmp_path):
    tabs = ('<main><h1>Levels of Care</h1><p>Juniper Ridge is licensed for two levels of care today.</p>'
            '<div role="tablist"><button role="tab" aria-controls="d">Detox (ASAM 3.7-WM)</button>'
            '<button role="tab" aria-controls="r">Residential (ASAM 3.5)</button>'
            '<button role="tab" aria-controls="o">Outpatient</button></div>'
            '<div id="d" role="tabpanel"><p>Medically monitored withdrawal, five to seven days.</p></div>'
            '<div id="r" role="tabpanel" hidden><p>Clients live at Juniper Ridge for 30 to 60 days.</p></div>'
            '<div id="o" role="tabpanel" hidden><p>Until our office opens, we connect every client with an '
            'outpatient provider near home.</p></div></main>')
    assert levels(tmp_path, tabs) == ["detox", "residential"]


def test_a_table_of_other_organisations_states_nothing_but_own_locations_do(tmp_path):
    others = ('<main><h1>Treatment Directory</h1><p>Our clients have used these programs.</p><table>'
              '<tr><th>Agency</th><th>Services</th><th>Phone</th></tr>'
              '<tr><td>Muskingum Valley Counseling, Marietta</td><td>Outpatient counseling; Intensive Outpatient (IOP)'
              '</td><td>740-555-0171</td></tr><tr><td>Southeast Iowa Behavioral Health</td>'
              '<td>Intensive outpatient program, evenings</td><td>(319) 555-0183</td></tr></table></main>')
    assert levels(tmp_path, others) == []
    own = ('<main><h1>Our locations</h1><p>We serve three towns.</p><table><tr><th>Location</th><th>Services</th></tr>'
           '<tr><td>Katy</td><td>IOP, PHP</td></tr><tr><td>Juniper Ridge North Clinic</td><td>Outpatient psychiatry</td>'
           '</tr></table></main>')
    assert levels(tmp_path, own) == ["iop", "outpatient", "php"]


def test_it_offers_carries_the_subject_of_the_sentence_before(tmp_path):
    body = ("<main><h1>Juniper Ridge Recovery Center</h1><p>Juniper Ridge Recovery Center is run by the county board. "
            "It offers outpatient and intensive outpatient services for adults.</p></main>")
    assert levels(tmp_path, body) == ["iop", "outpatient"]


def test_a_heading_counting_the_programs_levels_introduces_them(tmp_path):
    body = ("<main><h1>Care for Southern Utah</h1><h2>Three levels of care, one team</h2>"
            "<h3>Partial Hospitalization (PHP)</h3><p>Structured days while you live at home.</p>"
            "<h3>Intensive Outpatient (IOP)</h3><p>Morning and evening tracks.</p></main>")
    assert levels(tmp_path, body) == ["iop", "php"]


# --- batch 11 -------------------------------------------------------------------------------


def test_a_tab_pane_a_link_opens_and_an_accordion_answer_after_its_question_are_read(tmp_path):
    foundation = ('<main><h1>Day Treatment</h1><ul class="tabs"><li><a href="#p1">What it is</a></li>'
                  '<li><a href="#p2">Next steps</a></li></ul><div class="tabs-content">'
                  '<div class="tabs-panel is-active" id="p1"><p>Our day treatment program runs five days a week.</p></div>'
                  '<div class="tabs-panel" id="p2" aria-hidden="true"><p>Most clients step down to our intensive '
                  'outpatient program.</p></div></div></main>')
    assert levels(tmp_path, foundation) == ["iop", "php"]
    finalsite = ('<main><h1>Admissions FAQ</h1><section><header><h2><a href="#" aria-expanded="false">Is there a day '
                 'option?</a></h2></header><div style="display:none"><p>Yes: we offer a partial hospitalization '
                 'program.</p></div></section><div style="display:none"><p>We offer residential care.</p></div></main>')
    assert levels(tmp_path, finalsite) == ["php"]  # the second hidden part follows no question: not read


def test_a_widget_inside_main_is_content_and_a_directory_row_with_its_town_is_another_organisation(tmp_path):
    granicus = ('<main><h1>Behavioral Health</h1><div class="widget editor"><h2>Our services</h2><ul>'
                '<li>Outpatient mental health counseling for adults</li></ul></div></main>'
                '<aside class="widget"><p>Detox referrals</p></aside>')
    assert levels(tmp_path, granicus) == ["outpatient"]
    directory = ('<main><h1>Provider Directory</h1><table><tr><th>Provider</th><th>Services</th></tr>'
                 '<tr><td>Pinewood Counseling (Juniper City)</td><td>Outpatient and intensive outpatient</td></tr>'
                 '</table></main>')
    assert levels(tmp_path, directory) == []


def test_a_level_given_by_someone_else_or_closed_on_a_date_is_not_offered(tmp_path):
    outside = ("<main><h1>Next steps</h1><p>Before discharge, a social worker sets up the next step: our partial "
               "hospitalization program, an outside residential program or outpatient care with a provider near "
               "you.</p></main>")
    assert levels(tmp_path, outside) == ["php"]
    closed = ("<main><h1>Social Detox</h1><p>Our residential treatment program in the same building closed in "
              "March 2023 when its funding ended.</p></main>")
    assert levels(tmp_path, closed) == ["detox"]


def test_list_items_with_a_place_or_a_description_after_a_comma_and_a_ledes_first_sentence_are_labels(tmp_path):
    items = ("<main><h1>Home</h1><h2>What we do</h2><ul><li>Outpatient counseling in Laramie and Rawlins</li>"
             "<li>Outpatient detox, with a physician checking on you daily while you stay at home</li>"
             "<li>Consejería ambulatoria intensiva, una o dos veces por semana</li></ul></main>")
    assert levels(tmp_path, items) == ["detox", "iop", "outpatient"]
    lede = ("<main><h1>Tin Roof</h1><h2>Services</h2><p>An evening Intensive Outpatient Program (IOP) for adults, "
            "Tuesday to Thursday, 6-9 pm. Drug court referrals welcome.</p></main>")
    assert levels(tmp_path, lede) == ["iop"]


def test_a_solo_practitioner_an_insurance_network_and_weekly_meetings_state_their_levels(tmp_path):
    solo = ("<main><h1>Services</h1><p>I am a certified addiction professional and provide substance use "
            "counseling in an outpatient setting.</p></main>")
    assert levels(tmp_path, solo) == ["outpatient"]
    network = ("<main><h1>Insurance</h1><p>Juniper Ridge is in network with Aetna for medical detox and "
               "residential treatment.</p></main>")
    assert levels(tmp_path, network) == ["detox", "residential"]
    weekly = "<main><h1>Welcome</h1><p>Most clients meet with me once a week for 50 minutes.</p></main>"
    assert levels(tmp_path, weekly) == ["outpatient"]


def test_asams_residential_names_living_with_us_and_admission_to_our_hospital_state_levels(tmp_path):
    table = ("<main><h1>Where we fit</h1><table><tr><th>ASAM level</th><th>Service</th><th>Here</th></tr>"
             "<tr><td>3.5</td><td>Clinically managed high-intensity residential</td><td>✓ On site</td></tr></table></main>")
    assert levels(tmp_path, table) == ["residential"]
    faq = "<main><h1>Admissions FAQ</h1><p>Most students live with us for 9 to 12 months.</p></main>"
    assert levels(tmp_path, faq) == ["residential"]
    detox_stay = "<main><h1>What to expect</h1><p>You will stay with us for 3 to 7 days.</p></main>"
    assert levels(tmp_path, detox_stay) == []  # a stay of days is detox's, not said to be residential
    admission = ("<main><h1>Admissions</h1><p>When the assessment shows it is safest, admission to our hospital "
                 "can happen the same day.</p></main>")
    assert levels(tmp_path, admission) == ["inpatient"]


# --- batch 12 -------------------------------------------------------------------------------


def test_a_wordpress_page_is_no_post_whatever_its_theme_adds_and_a_short_named_footer_is_furniture(tmp_path):
    from pipelines.site_levels import judge_saved_page

    page = tmp_path / "page.html"
    # The page's title is a label on a program's page; a post is read for its sentences only.
    page.write_text('<html><body class="page-template-default page page-id-14 blog-post"><main><h1>Intensive '
                    'Outpatient Program</h1><p>Call us today.</p></main></body></html>', encoding="utf-8")
    assert [f.level for f in judge_saved_page(page, "https://www.juniperridge.example/programs/")] == ["iop"]
    page.write_text('<html><body class="single single-post blog-post"><main><h1>Intensive Outpatient Program</h1>'
                    '<p>Call us today.</p></main></body></html>', encoding="utf-8")
    assert judge_saved_page(page, "https://www.juniperridge.example/programs/") == []
    footer = ('<div class="section-hdr01"><h1>Book a call</h1><p>Pick a time.</p></div>'
              '<div id="section-ftr01"><ul><li>Intensive Outpatient</li><li>Detox</li></ul></div>')
    assert levels(tmp_path, footer) == []


def test_state_names_of_levels_and_asams_withdrawal_names(tmp_path):
    nc = ("<main><h1>Our Services</h1><p>We run SAIOP three mornings a week and SACOT four hours a day, five days "
          "a week.</p></main>")
    assert levels(tmp_path, nc) == ["iop", "php"]
    ma = ("<main><h1>Addiction services</h1><p>Our 32-bed unit provides Acute Treatment Services, and our Clinical "
          "Stabilization Services program offers up to 30 days on campus.</p></main>")
    assert levels(tmp_path, ma) == ["detox", "residential"]
    wi = "<main><h1>Home</h1><h2>What we provide</h2><ul><li>Clinically managed residential withdrawal</li></ul></main>"
    assert levels(tmp_path, wi) == ["detox"]


def test_x_is_not_y_denies_y_only_and_a_referral_row_of_a_sublevel_denies_nothing(tmp_path):
    copula = "<main><h1>SACOT</h1><p>SACOT is not residential treatment or detox.</p></main>"
    assert levels(tmp_path, copula) == ["php"]
    table = ("<main><h1>Levels of Care</h1><table><tr><th>Level</th><th>ASAM</th><th>Here</th></tr>"
             "<tr><td>Clinically managed high-intensity residential</td><td>3.5</td><td>✓</td></tr>"
             "<tr><td>Clinically managed low-intensity residential</td><td>3.1</td><td>Referral</td></tr>"
             "<tr><td>Intensive outpatient</td><td>2.1</td><td>Opening January 2027</td></tr></table></main>")
    assert levels(tmp_path, table) == ["residential"]
    ended = "<main><h1>Home</h1><h3>Why we ended our evening IOP pilot</h3><p>It was too small.</p></main>"
    assert levels(tmp_path, ended) == []


def test_hidden_accordion_panes_here_at_our_name_admitted_and_licensed_as_state_levels(tmp_path):
    brizy = ('<div class="brz-accordion"><div data-collapsible="a1">Can I leave after detox?</div>'
             '<div class="brz-accordion__content" style="display:none"><p>You can, but we encourage everyone to '
             'continue into residential treatment here.</p></div></div>')
    assert levels(tmp_path, brizy) == ["residential"]
    alumni = "<main><h1>Alumni</h1><p>Open to anyone who completed residential treatment at Juniper Ridge.</p></main>"
    assert levels(tmp_path, alumni) == ["residential"]
    admitted = "<main><h1>Arrival day</h1><p>If you are not in withdrawal, you may be admitted straight to residential.</p></main>"
    assert levels(tmp_path, admitted) == ["residential"]
    licensed = ("<main><h1>The Program</h1><p>Licensed by the Arizona Department of Health Services as a behavioral "
                "health residential facility.</p></main>")
    assert levels(tmp_path, licensed) == ["residential"]


def test_level_headings_on_the_home_page_and_weekly_sessions_described_on_a_card(tmp_path):
    home = ("<main><h1>Psychiatric care for East Mississippi</h1><p>A 48-bed private psychiatric hospital.</p>"
            "<h3>Adult Acute Inpatient</h3><p>Short-term hospital care.</p><h3>Senior Intensive Outpatient</h3>"
            "<p>Group therapy three mornings a week.</p></main>")
    assert saved_page_levels(tmp_path, home, url="https://www.juniperridge.example/") == ["inpatient", "iop"]
    # The same columns on a page whose address names no offerings need the program's voice.
    assert saved_page_levels(tmp_path, home, url="https://www.juniperridge.example/about/") == []
    cards = ("<main><h1>Home</h1><h2>Two ways to work with us</h2><h4>Virtual Intensive Outpatient (IOP)</h4>"
             "<p>Twelve hours a week.</p><h4>Individual Counseling</h4><p>A 50-minute session every week with a "
             "licensed counselor.</p><h4>Outpatient</h4><p>Continuing care after IOP.</p></main>")
    assert saved_page_levels(tmp_path, cards, url="https://www.juniperridge.example/") == ["iop", "outpatient"]
    seen = "<main><h1>How counseling works</h1><p>Most families see their counselor once a week for 50 minutes.</p></main>"
    assert levels(tmp_path, seen) == ["outpatient"]


# --- batch 13 -------------------------------------------------------------------------------


def test_a_referral_tables_rows_and_a_dated_closure_state_nothing(tmp_path):
    referrals = ("<main><h1>When we are not the right fit</h1><p>We will help you find the right place.</p><table>"
                 "<tr><th>If you need</th><th>Where people often go</th><th>Phone</th></tr>"
                 "<tr><td>Residential treatment</td><td>Clarendon Hill Recovery Center</td><td>(802) 555-0322</td></tr>"
                 "<tr><td>Intensive outpatient (IOP)</td><td>Marble Valley Recovery Services</td><td>(802) 555-0338</td></tr>"
                 "</table></main>")
    assert levels(tmp_path, referrals) == []
    closed = ("<main><h1>Our history</h1><p>Our eight-bed social-setting detox center on Pierce Street closed on "
              "June 30, 2024, when its state funding ended.</p></main>")
    assert levels(tmp_path, closed) == []


def test_table_layout_navigation_a_content_wrapper_and_an_accordion_button_with_a_header_class(tmp_path):
    table_site = ('<table><tr><td class="topnav"><a href="/">Home</a> | <a href="/iop">IOP</a></td></tr><tr>'
                  '<td class="leftcol"><p>Quick Links</p><p><a href="/op">Outpatient</a></p></td>'
                  '<td class="content"><h1>DUI Risk Reduction</h1><p>Twenty hours of classes.</p></td></tr></table>')
    assert levels(tmp_path, table_site) == []
    the7 = ('<div id="main" class="sidebar-none sidebar-divider-vertical"><h1>Admissions</h1><ol><li>We set a date. '
            'Detox and residential admissions happen seven days a week. Partial hospitalization and intensive '
            'outpatient start on weekdays.</li></ol></div>')
    assert levels(tmp_path, the7) == ["detox", "iop", "php", "residential"]
    cornerstone = ('<main><h1>FAQ</h1><button class="x-acc-header" aria-expanded="false" aria-controls="p0">Do you '
                   'offer medical detox?</button><div id="p0" aria-hidden="true"><p>Yes. A physician oversees '
                   'every admission.</p></div></main>')
    assert levels(tmp_path, cornerstone) == ["detox"]


def test_items_under_an_offer_heading_describing_levels_in_words_state_them(tmp_path):
    county = ("<main><h1>Behavioral Health</h1><h2>Services we provide</h2><ul><li>Substance use treatment – outpatient "
              "counseling and an adult intensive outpatient program (IOP) that meets three evenings a week</li>"
              "<li>Services: non-hospital detox, short-term residential treatment</li></ul></main>")
    assert levels(tmp_path, county) == ["detox", "iop", "outpatient", "residential"]
    origin = ("<main><h1>Behavioral Health</h1><h2>Services we provide</h2><ul><li>Aftercare groups for people who "
              "completed residential treatment</li></ul></main>")
    assert levels(tmp_path, origin) == []
    hospital = ("<main><h1>Addiction medicine</h1><p>Patients see physicians and counselors. Our services include:</p>"
                "<ul><li>Medically managed inpatient withdrawal on 5 West, for three to five days</li></ul></main>")
    assert levels(tmp_path, hospital) == ["detox"]  # the setting of detox is no level of its own
    rhythm = "<main><h1>Counseling</h1><p>Most people come every week or every other week.</p></main>"
    assert levels(tmp_path, rhythm) == ["outpatient"]


# --- batch 14 -------------------------------------------------------------------------------


def test_a_guide_that_explains_levels_and_a_cards_opening_badge_state_nothing(tmp_path):
    guide = ("<main><h1>Levels of care in Massachusetts</h1><p>This guide explains the levels of care in "
             "Massachusetts. To see which ones we provide, visit Our Programs.</p><dl><dt>Acute Treatment Services "
             "(ATS)</dt><dd>Medically monitored detox.</dd><dt>Outpatient counseling</dt><dd>Weekly.</dd></dl></main>")
    assert levels(tmp_path, guide) == []
    badge = ("<main><h1>Behavioral Health</h1><h2>Our behavioral health services</h2><h3>Outpatient Psychiatry</h3>"
             "<ul><li>Therapists at our two clinics.</li></ul><h3>Partial Hospitalization Program</h3><ul><li>A weekday "
             "day program for adults.</li><li>Opening 2026</li></ul></main>")
    assert levels(tmp_path, badge) == ["outpatient"]


def test_card_titles_set_apart_by_css_alone_are_words_of_their_own(tmp_path):
    tiles = ("<main><h1>Home</h1><h2>Treatment Programs</h2><ul><li><a href='/rehab'><strong>Inpatient Rehab</strong>"
             "<span>28 to 90 days living on our riverside campus.</span></a></li></ul></main>")
    assert levels(tmp_path, tiles) == ["residential"]


def test_weekly_sessions_with_the_programs_own_people_and_roman_level_numbers(tmp_path):
    weekly = ("<main><h1>Family counseling</h1><h2>Outpatient counseling</h2><p>Weekly sessions with a licensed "
              "therapist for anxiety and grief.</p></main>")
    assert levels(tmp_path, weekly) == ["outpatient"]
    same_team = "<main><h1>How it works</h1><p>When you finish, step down to weekly therapy with the same team.</p></main>"
    assert levels(tmp_path, same_team) == ["outpatient"]
    meet = "<main><h1>Welcome</h1><p>Most clients meet with us for weekly 50-minute sessions.</p></main>"
    assert levels(tmp_path, meet) == ["outpatient"]
    iowa = ("<main><h1>Services</h1><table><tr><th>Level</th><th>Offered</th></tr><tr><td>Level I Outpatient</td>"
            "<td>Yes</td></tr><tr><td>Level II.5 Partial Hospitalization</td><td>Not offered</td></tr></table></main>")
    assert levels(tmp_path, iowa) == ["outpatient"]


# --- batch 15 -------------------------------------------------------------------------------


def test_state_licence_names_of_levels(tmp_path):
    pa = ("<main><h1>Levels of care at Juniper Ridge</h1><ul><li>Inpatient Non-Hospital Detoxification (ASAM 3.7-WM)"
          "</li><li>Inpatient Non-Hospital Treatment – short term (ASAM 3.5)</li></ul></main>")
    assert levels(tmp_path, pa) == ["detox", "residential"]
    ny = ("<main><h1>Services</h1><h2>Our OASAS-certified services</h2><ul><li>Part 822 Outpatient Clinic</li>"
          "<li>Part 820 Residential Services</li></ul></main>")
    assert levels(tmp_path, ny) == ["outpatient", "residential"]


def test_a_locations_tables_services_column_and_described_rhythms_state_levels(tmp_path):
    table = ("<main><h1>Locations</h1><table><tr><th>Location</th><th>Address</th><th>Services</th></tr>"
             "<tr><td>Court Street Clinic</td><td>61 Court St</td><td>Outpatient, intensive outpatient</td></tr>"
             "</table></main>")
    assert levels(tmp_path, table) == ["iop", "outpatient"]
    rough = ("<main><h1>Programs</h1><p>Day treatment meets Monday to Friday, 8:30 a.m. to 1:30 p.m., about 20 hours "
             "a week.</p></main>")
    assert levels(tmp_path, rough) == ["php"]
    house = ("<main><h1>Our Program</h1><p>Women live at Juniper House with their children for about 90 days.</p>"
             "<p>After graduation, women continue in weekly aftercare groups with us.</p></main>")
    assert levels(tmp_path, house) == ["outpatient", "residential"]


# --- batch 16 -------------------------------------------------------------------------------


def test_contracted_providers_and_a_program_being_built_are_no_offer(tmp_path):
    county = ("<main><h1>Substance use services</h1><p>Residential treatment and withdrawal management are available "
              "through our contracted providers.</p></main>")
    assert levels(tmp_path, county) == []
    building = ("<main><h1>Coming spring 2027</h1><p>We are building a day treatment program in our new clinic, five "
                "days a week.</p></main>")
    assert levels(tmp_path, building) == []


def test_a_practice_that_sees_its_clients_weekly_and_a_spanish_card_of_weekly_sessions(tmp_path):
    solo = ("<main><h1>Flathead Counseling</h1><p>I see adults and couples for weekly 50-minute sessions in my office "
            "or by telehealth.</p></main>")
    assert levels(tmp_path, solo) == ["outpatient"]
    rhythm = "<main><h1>Counseling</h1><p>We see clients every week or every other week in our office.</p></main>"
    assert levels(tmp_path, rhythm) == ["outpatient"]
    cards = ("<main><h1>Nuestros servicios</h1><h4>Programa intensivo ambulatorio</h4><p>Tres tardes por semana.</p>"
             "<h4>Terapia individual y familiar</h4><p>Sesiones semanales de 50 minutos, en persona o por video.</p></main>")
    assert levels(tmp_path, cards) == ["iop", "outpatient"]


# --- batches 17 and 18 -------------------------------------------------------------------------


def test_a_table_of_levels_we_provide_and_arrange_states_the_provided_rows(tmp_path):
    table = ("<main><h1>Levels of Care</h1><p>The table below shows what we provide and what we arrange with partners."
             "</p><table><tr><th>Level</th><th>ASAM</th><th>Where</th></tr>"
             "<tr><td>Outpatient</td><td>1.0</td><td>Our office or telehealth</td></tr>"
             "<tr><td>Intensive Outpatient (IOP)</td><td>2.1</td><td>Our office, evenings</td></tr>"
             "<tr><td>Residential</td><td>3.5</td><td>Referral to a partner program</td></tr></table>"
             "<p>Levels of care we provide and arrange</p></main>")
    assert levels(tmp_path, table) == ["iop", "outpatient"]


def test_a_referral_after_a_denial_is_the_denials_own(tmp_path):
    page = ("<main><h1>Intensive Outpatient Program</h1><p>For adults who can live at home.</p><p>We do not offer "
            "partial hospitalization or detox. If you need either, we will help you find a program.</p></main>")
    assert levels(tmp_path, page) == ["iop"]
    declined = ("<main><h1>Levels of care</h1><h2>Residential and Inpatient Care</h2><p>Residential treatment and "
                "inpatient hospitalization provide 24-hour care. We do not provide these levels of care, but our "
                "intake team can refer you to trusted partners.</p></main>")
    assert levels(tmp_path, declined) == []


def test_an_asam_number_names_a_halfway_houses_level(tmp_path):
    page = ("<main><h1>Locations</h1><h3>Brookings</h3><p>Services: Outpatient counseling, Intensive outpatient, "
            "Halfway house (ASAM 3.1)</p></main>")
    assert levels(tmp_path, page) == ["iop", "outpatient", "residential"]
    assert levels(tmp_path, "<main><h1>Sober living</h1><p>Our halfway house has 12 beds.</p></main>") == []


def test_a_page_builders_footer_under_the_address_line_is_no_offer(tmp_path):
    page = ("<main><h1>Thank you! We'll call you shortly.</h1><p>An admissions coordinator will call you soon.</p>"
            "<p>Kaskaskia Recovery · 410 W Gallatin St, Vandalia, IL 62471 · (618) 555-0175</p>"
            "<p>Detox · Residential · Outpatient · IOP</p></main>")
    assert levels(tmp_path, page) == []
    card = ("<main><h1>Our Locations</h1><h3>Lubbock</h3><p>9 Quaker Ave, Lubbock, TX 79416</p>"
            "<p>Residential treatment · Medical detox</p></main>")
    assert sorted(levels(tmp_path, card)) == ["detox", "residential"]


def test_a_cards_line_that_opens_with_its_badge_rules_its_level_out(tmp_path):
    page = ("<main><h1>Nanticoke Recovery</h1><h2>Evening IOP</h2><p>Monday, Tuesday and Thursday, 6 to 9 p.m.</p>"
            "<h2>Medically supervised detox</h2><p>Not offered here. We work with the center in Ellendale.</p></main>")
    assert levels(tmp_path, page) == ["iop"]
    spanish = ("<main><h1>Centro Horizonte</h1><h3>Programa de día</h3><p>Próximamente: abriremos un programa de día "
               "en la primavera de 2027.</p></main>")
    assert levels(tmp_path, spanish) == []


def test_spanish_programa_intensivo_and_a_weekly_rhythm_in_the_practices_own_voice(tmp_path):
    spanish = ("<main><h1>Para las familias</h1><p>Las familias de quienes asisten a nuestro programa intensivo de las "
               "tardes tienen una sesión familiar cada mes.</p></main>")
    assert levels(tmp_path, spanish) == ["iop"]
    solo = ("<main><h1>Welcome to Tioga Counseling</h1><p>I see clients one at a time in my office on Main Street, "
            "usually every week or every other week.</p></main>")
    assert levels(tmp_path, solo) == ["outpatient"]
    general = "<main><h1>What is outpatient care?</h1><p>Outpatient clients usually come every week.</p></main>"
    assert levels(tmp_path, general) == []


# --- batches 19 and 20 -------------------------------------------------------------------------


def test_a_level_paused_or_still_to_open_said_after_it(tmp_path):
    for sentence in ("Our evening intensive outpatient group is on pause while we hire a second counselor.",
                     "Our IOP opens in early 2027.",
                     "Starting in spring 2027, I plan to run an evening intensive outpatient group.",
                     "Nuestra casa residencial para hombres abrirá en la primavera de 2027."):
        assert levels(tmp_path, f"<main><h1>News</h1><p>{sentence}</p></main>") == [], sentence


def test_a_weeks_hours_told_as_a_total_and_a_closure_of_one_groups_program(tmp_path):
    total = ("<main><h1>Services</h1><h2>Level 2.1 intensive outpatient</h2><p>Three evenings a week, nine hours in "
             "all, for six to eight weeks.</p></main>")
    assert levels(tmp_path, total) == ["iop"]  # nine hours a week: not a day program
    teens = ("<main><h1>Partial Hospitalization</h1><p>Our PHP runs 8:30 to 2:30, Monday through Friday.</p>"
             "<p>The adolescent PHP closed in June 2026.</p></main>")
    assert levels(tmp_path, teens) == ["php"]


def test_a_price_list_and_a_described_level_offered_first(tmp_path):
    fees = ("<main><h1>Fees</h1><table><tr><th>Service</th><th>Fee</th></tr><tr><td>Assessment</td><td>$175</td></tr>"
            "<tr><td>Intensive outpatient program, 6 weeks</td><td>$1,800</td></tr></table></main>")
    assert levels(tmp_path, fees) == ["iop"]
    first = ("<main><h1>Welcome</h1><p>Juniper Ridge offers weekly counseling for adults, and our evening IOP, three "
             "nights a week.</p></main>")
    assert levels(tmp_path, first) == ["iop", "outpatient"]
    part = "<main><h1>Welcome</h1><p>Our IOP offers weekly family therapy.</p></main>"
    assert levels(tmp_path, part) == ["iop"]


def test_the_masthead_under_the_sites_name_is_no_pages_offer(tmp_path):
    masthead = ("<main><p>Juniper Ridge</p><p>Outpatient · Intensive Outpatient · DUI School · Grove, Oklahoma</p>"
                "<p>Frequently Asked Questions</p><p>Do you take SoonerCare? Yes.</p></main>")
    assert levels(tmp_path, masthead) == []
    offer = ("<main><p>Juniper Ridge</p><h2>Our programs</h2><p>Outpatient · Intensive Outpatient · DUI School</p>"
             "</main>")
    assert levels(tmp_path, offer) == ["iop", "outpatient"]


def test_inbound_commitments_and_withdrawal_the_programs_team_manages(tmp_path):
    hospital = ("<main><h1>Juniper Ridge Hospital</h1><p>Juniper Ridge Hospital is the state's 90-bed psychiatric "
                "hospital for adults, providing acute inpatient care to people committed by the courts or referred "
                "by community mental health centers.</p></main>")
    assert levels(tmp_path, hospital) == ["inpatient"]
    withdrawal = ("<main><h1>Addiction Medicine</h1><p>Patients admitted for alcohol withdrawal are cared for on our "
                  "medical unit, where our addiction medicine team manages withdrawal with 24-hour nursing.</p></main>")
    assert levels(tmp_path, withdrawal) == ["detox"]


# --- batch 21 ----------------------------------------------------------------------------------


def test_an_accordion_button_with_aria_expanded_alone_and_a_panel_that_opens_with_a_badge(tmp_path):
    liveview = ('<main><h1>Levels of Care</h1><div><button phx-click="toggle" aria-expanded="true">ASAM 3.7-WM · '
                'Medically monitored withdrawal management</button><div><p>Yes. Our eight detox beds are staffed by '
                'RNs.</p></div></div><div><button phx-click="toggle" aria-expanded="false">ASAM 3.5 · Clinically '
                'managed residential</button><div class="hidden"><p>Yes. Thirty days in our 20-bed house.</p></div>'
                '</div><div><button phx-click="toggle" aria-expanded="false">ASAM 2.1 · Intensive outpatient</button>'
                '<div class="hidden"><p>Referral. We work with two IOPs in Mobile.</p></div></div></main>')
    assert levels(tmp_path, liveview) == ["detox", "residential"]


def test_a_guides_table_of_levels_marked_offered(tmp_path):
    from pipelines.site_levels import judge_saved_page

    page = tmp_path / "levels.html"
    page.write_text("<html><body><main><h1>Levels of care</h1><table><tr><th>ASAM</th><th>Name</th><th>Here?</th></tr>"
                    "<tr><td>2.1</td><td>Intensive outpatient</td><td>Yes, Sonora office</td></tr>"
                    "<tr><td>2.5</td><td>Partial hospitalization</td><td>No. We refer to Modesto</td></tr></table>"
                    "</main></body></html>", encoding="utf-8")
    url = "https://guide.juniperridge.example/guide/levels.html"  # a guide's path: read as a post
    assert [f.level for f in judge_saved_page(page, url)] == ["iop"]


def test_a_card_line_that_opens_with_its_described_level_and_a_saying_about_detox(tmp_path):
    cards = ("<main><h1>Clinical Programs</h1><h3>Partial Hospitalization Program</h3><p>Six hours a day.</p>"
             "<h3>Addiction Medicine Clinic</h3><p>Weekly visits with an addiction psychiatrist and counseling.</p>"
             "<h3>Family program</h3><p>Weekly family therapy by video.</p></main>")
    assert levels(tmp_path, cards) == ["outpatient", "php"]
    saying = ("<main><h1>Medical Detox</h1><p>Our withdrawal management unit has nurses around the clock.</p>"
              "<h2>After detox</h2><p>Detox alone is not treatment. Most people continue with us in residential "
              "care.</p></main>")
    assert levels(tmp_path, saying) == ["detox", "residential"]


# --- batch 22 ----------------------------------------------------------------------------------


def test_places_under_a_locations_heading_and_a_menu_no_markup_marks(tmp_path):
    places = ("<main><h1>Our locations</h1><h2>Opelousas</h2><p>1020 Creswell Lane</p><p>Residential treatment and "
              "detox</p><h2>Ville Platte</h2><p>540 E. Main St.</p><p>Outpatient counseling</p></main>")
    assert levels(tmp_path, places) == ["detox", "outpatient", "residential"]
    menu = ("<main><h1>Welcome</h1><p>Philippi, West Virginia</p><ul><li>Home</li><li>Services<ul><li>Intensive "
            "Outpatient</li><li>Day Program</li></ul></li><li>Contact</li></ul><p>We offer an intensive outpatient "
            "program for adults.</p></main>")
    assert levels(tmp_path, menu) == ["iop"]


def test_a_row_naming_its_level_in_words_marked_offered_and_news_of_an_end_or_a_fundraiser(tmp_path):
    table = ("<main><h1>Levels of care</h1><table><tr><th>ASAM</th><th>What it means</th><th>Here?</th></tr>"
             "<tr><td>3.7-WM</td><td>Detox with nurses 24 hours a day</td><td>Yes – 6-bed unit</td></tr></table></main>")
    assert levels(tmp_path, table) == ["detox"]
    for sentence in ("Outpatient groups at this campus ended in 2025; they moved to Eunice.",
                     "Our 2027 campaign: help us open an outpatient clinic next door."):
        assert levels(tmp_path, f"<main><h1>News</h1><p>{sentence}</p></main>") == [], sentence


# --- batches 23 and 24 -------------------------------------------------------------------------


def test_counseling_named_as_a_clinics_service_is_outpatient_care_but_a_residential_programs_therapy_is_not(tmp_path):
    services = ("<main><h1>Care for the whole person</h1><h2>How we can help</h2><ul><li>Counseling for adults, "
                "children and families</li><li>Psychiatric evaluation and medication management</li></ul></main>")
    assert levels(tmp_path, services) == ["outpatient"]
    fees = ("<main><h1>Fees</h1><table><tr><th>Service</th><th>Fee</th></tr><tr><td>Individual therapy session "
            "(53 min)</td><td>$140</td></tr></table></main>")
    assert levels(tmp_path, fees) == ["outpatient"]
    residential = ("<main><h1>Residential Treatment</h1><p>We offer residential treatment for men.</p><ul>"
                   "<li>Individual therapy</li><li>Family therapy every week</li></ul></main>")
    assert levels(tmp_path, residential) == ["residential"]
    intensive = "<main><h1>Our program</h1><ul><li>Individual therapy three times a week</li></ul></main>"
    assert levels(tmp_path, intensive) == []
    elsewhere = ("<main><h1>When we are not the right fit</h1><ul><li>Individual counseling: we refer to a "
                 "therapist near you</li></ul></main>")
    assert levels(tmp_path, elsewhere) == []


def test_a_clock_time_ends_a_sentence_when_a_clause_opens_after_it(tmp_path):
    page = ("<main><h1>Partial Hospitalization Program</h1><p>If you are finishing residential treatment with us, "
            "your counselor will plan your step-down into our evening intensive outpatient program, which meets "
            "Monday, Tuesday and Thursday from 6 to 9 p.m. If you were referred to us for day treatment by a "
            "hospital, call admissions.</p></main>")
    assert levels(tmp_path, page) == ["iop", "residential"]


def test_the_programs_own_place_after_a_level_outweighs_a_referral_in_its_clause(tmp_path):
    for sentence in ("When you finish your residential stay with us, your counselor will help you plan what comes next.",
                     "Most patients transfer directly to the Residential House down the hall."):
        assert levels(tmp_path, f"<main><h1>Welcome</h1><p>{sentence}</p></main>") == ["residential"], sentence
    sent = "<main><h1>Referrals</h1><p>We refer patients who need residential care to partner programs.</p></main>"
    assert levels(tmp_path, sent) == []


def test_a_help_centers_articles_are_the_programs_answers_not_posts(tmp_path):
    body = ("<main><h1>Which program is right for me?</h1><h3>Levels of Care</h3><ul><li>Residential (3.5) – about "
            "28 days</li><li>Intensive Outpatient (2.1) – three hours a day, three days a week</li></ul></main>")
    help_url = "https://help.example.org/hc/en-us/articles/4410299203-Which-program"
    assert saved_page_levels(tmp_path, body, url=help_url) == ["iop", "residential"]
    assert saved_page_levels(tmp_path, body, url="https://example.org/articles/which-program") == []


def test_closures_futures_and_levels_that_go_on(tmp_path):
    cases = [
        ("<h2>Day treatment</h2><p>Closed September 30, 2026.</p>", []),
        ("<p>Outpatient counseling and the Intensive Outpatient Program at the Main Street clinic are not affected "
         "and continue on their usual schedules.</p>", ["iop", "outpatient"]),
        ("<p>The county plans to reopen six detox beds no earlier than July 2027.</p>", []),
        ("<p>Back when I was in residential at Clinch Valley in 2019, somebody did this for me.</p>", []),
        ("<ul><li>Six withdrawal management beds (ASAM 3.2-WM) for adults</li></ul>", ["detox"]),
        ("<p>Nuestro programa residencial para mujeres, Casa Esperanza, cerró en junio de 2024.</p>", []),
    ]
    for body, expected in cases:
        assert levels(tmp_path, f"<main><h1>Crisis Center</h1>{body}</main>") == expected, body


def test_where_clients_live_described_and_a_compound_adjective_before_a_level(tmp_path):
    cases = [
        ("<p>Gideon's Gate is a 12-month, Christ-centered residential recovery program for men.</p>", ["residential"]),
        ("<p>Men live on our 40-acre farm outside Corbin and heal together.</p>", ["residential"]),
        ("<p>In phase 3, men still live on campus and begin outside work.</p>", ["residential"]),
        ("<p>Most guests live at the estate for 30 to 60 days.</p>", ["residential"]),
    ]
    for body, expected in cases:
        got = saved_page_levels(tmp_path, f"<main><h1>Freedom is possible</h1>{body}</main>",
                                url="https://www.gideonsgate.example.org/")
        assert got == expected, body


# --- batches 25 and 26 -------------------------------------------------------------------------


def test_therapy_in_the_programs_own_voice_and_visits_it_gives(tmp_path):
    cases = [
        ("<p>I'm Wren. I offer individual therapy for adults, in person and online.</p>", ["outpatient"]),
        ("<p>Every patient meets with their counselor at least twice a month.</p>", ["outpatient"]),
        ("<h2>After IOP</h2><p>Ongoing weekly therapy and medication management with us, as long as you need it.</p>",
         ["outpatient"]),
        ("<p>Aquí usted puede recibir consejería individual y familiar con nuestra enfermera, sin salir del "
         "condado.</p>", ["outpatient"]),
        ("<p>Residents live at the house for 30 to 90 days, attend daily groups, and meet with a counselor every "
         "week.</p>", ["residential"]),
        ("<p>Every student's week includes:</p><ul><li>Individual therapy with their primary therapist</li>"
         "<li>Daily groups: DBT skills, recovery, process</li></ul>", []),
    ]
    for body, expected in cases:
        assert levels(tmp_path, f"<main><h1>Welcome</h1>{body}</main>") == expected, body


def test_stays_counted_in_days_closed_program_pages_and_titles_with_a_possessive(tmp_path):
    assert levels(tmp_path, "<main><h1>Welcome</h1><h2>A 45-day program on our campus</h2></main>") == []
    closed = ("<main><p>This program has closed. If you need residential treatment, call us.</p><h1>Residential "
              "Treatment</h1><p>Ichetucknee House is a 20-bed residential program for adults.</p></main>")
    assert levels(tmp_path, closed) == []
    moms = "<main><h1>Moms' IOP</h1><table><tr><td>Tuesday</td><td>9:30–12:30</td></tr></table></main>"
    assert levels(tmp_path, moms) == ["iop"]


def test_the_programs_own_campus_or_unit_after_an_admission_or_a_transfer(tmp_path):
    cases = [
        ("<p>Nampa clients who need detox are admitted to our Ogden campus first.</p>", ["detox"]),
        ("<p>If depression needs attention, you may transfer to our inpatient psychiatric unit on 4 West.</p>",
         ["inpatient"]),
        ("<p>We will refer you to our partners for detox.</p>", []),
        ("<p>Now hiring for our new residential center, opening on this campus in 2027.</p>", []),
    ]
    for body, expected in cases:
        assert levels(tmp_path, f"<main><h1>Nampa</h1>{body}</main>") == expected, body


def test_cards_whose_text_is_a_timetable_or_a_count_of_beds(tmp_path):
    cards = ("<main><h1>Behavioral Health</h1><h3>Medical Detox</h3><p>Eight beds for medically managed withdrawal."
             "</p><h3>Intensive outpatient program</h3><p>Monday, Tuesday and Thursday evenings, 5:00–8:00 pm, with "
             "a meal.</p><h3>Residential treatment</h3><p>Coming in 2027.</p></main>")
    assert saved_page_levels(tmp_path, cards, url="https://www.juniperridge.example/behavioral-health/") == [
        "detox", "iop"]


# --- batch 27 ----------------------------------------------------------------------------------


def test_stays_and_withdrawal_described_and_levels_still_to_come(tmp_path):
    cases = [
        ("<h3>A 30- to 60-day stay</h3><p>Adults 21 and older live in one of three lodges.</p>", ["residential"]),
        ("<p>Most people stay 3 to 5 days.</p><p>It's a safe place to withdraw, with nurses here 24/7.</p>",
         ["detox"]),
        ("<p>A state-operated center with 16 beds for adults withdrawing from alcohol and other drugs.</p>",
         ["detox"]),
        ("<p>The Division is also planning a 12-bed residential treatment program on the same campus, expected "
         "to open in 2028.</p>", []),
        ("<table><tr><th>Service</th><th>Hours</th></tr><tr><td>Counseling</td><td>Mon–Fri 6:00 am–2:30 pm"
         "</td></tr></table>", []),
    ]
    for body, expected in cases:
        assert levels(tmp_path, f"<main><h1>Welcome</h1>{body}</main>") == expected, body


# --- batches 28 to 34 (2026-12-01) ------------------------------------------------------------


def test_an_insurance_table_and_a_pages_closure_by_its_title_state_nothing(tmp_path):
    cases = [
        ("<h1>Using insurance</h1><table><tr><th>Level of care</th><th>Prior authorization?</th></tr>"
         "<tr><td>Partial hospitalization</td><td>Yes</td></tr><tr><td>Residential treatment</td><td>Yes</td>"
         "</tr></table>", []),
        ("<h1>Levels of care</h1><table><tr><th>Level of care</th><th>Offered here</th></tr>"
         "<tr><td>Partial hospitalization</td><td>Yes</td></tr></table>", ["php"]),
        ("<h1>Transition House</h1><p>Transition House closed on August 31, 2026.</p><p>Transition House is a "
         "10-bed residential program for men leaving incarceration.</p>", []),
        ("<h1>Residential Program</h1><p>Admissions paused. We are not admitting new residents until the "
         "renovation is finished.</p><p>Our house has 12 beds where women live for 30 to 90 days.</p>", []),
    ]
    for body, expected in cases:
        assert levels(tmp_path, f"<main>{body}</main>") == expected, body


def test_live_in_programs_described_without_the_word(tmp_path):
    cases = [
        "<p>We are a nine-month live-in discipleship and recovery program for men.</p>",
        "<p>Come ready to live at the ranch for nine months.</p>",
        "<p>Heronwood is a place where mothers in recovery live with their children while they heal.</p>",
        "<p>Teens in our program live at Fairlight House, a six-bedroom home, for 45 to 90 days.</p>",
        "<p>Relatives stay with us for 30 days.</p>",
        "<p>Most guests stay three to five days, then most move upstairs into our 28-day program; others go "
        "home with an outpatient appointment.</p>",
    ]
    for body in cases:
        assert "residential" in levels(tmp_path, f"<main><h1>Welcome</h1>{body}</main>"), body
    detox_stay = "<main><h1>Welcome</h1><p>You will stay with us for 3 to 7 days in our 16-bed unit.</p></main>"
    assert "residential" not in levels(tmp_path, detox_stay)


def test_a_places_denial_is_that_places_and_a_services_line_beside_an_iop_is_outpatient(tmp_path):
    locations = ("<main><h1>Our Locations</h1><h3>Garden City</h3><p>1804 E. Kansas Avenue, Garden City, KS 67846</p>"
                 "<p>Services: therapy, psychiatry, substance use counseling, intensive outpatient program (adults)</p>"
                 "<h3>Great Bend</h3><p>2010 Forest Avenue, Great Bend, KS 67530</p>"
                 "<p>Services: therapy, substance use counseling. IOP coming spring 2027.</p></main>")
    assert levels(tmp_path, locations) == ["iop", "outpatient"]


def test_counseling_named_as_a_service_and_on_a_live_in_programs_page(tmp_path):
    cases = [
        ("<h1>Birchwood Counseling Center</h1><p>Serving Itasca County since 1998</p><p>We offer counseling for "
         "individuals, couples and families.</p>", ["outpatient"]),
        ("<h1>Opioid treatment</h1><p>Our clinic is a licensed opioid treatment program. We offer methadone and "
         "buprenorphine with counseling.</p>", ["outpatient"]),
        ("<h1>Where boys find their footing</h1><p>Boys live at the ranch for four to six months.</p><h4>Clinical"
         "</h4><p>Individual, group and weekly family therapy, with a psychiatrist who visits every week.</p>",
         ["residential"]),
        ("<h1>A place to start over</h1><p>Most men live with us for 60 to 90 days.</p><p>When a man goes home, "
         "he can keep coming to our Tuesday night aftercare group and see his counselor every other week.</p>", ["outpatient", "residential"]),
    ]
    for body, expected in cases:
        assert levels(tmp_path, f"<main>{body}</main>") == expected, body


def test_a_main_landmark_left_inside_an_unclosed_header_and_spectras_hidden_answers_are_read(tmp_path):
    unclosed = ('<header class="site-header" role="banner"><div><div><nav><a href="/">Home</a></nav></div></header>'
                '<div id="primary"><main id="main"><h1>Dellwood House</h1><p>At Dellwood House, mothers in recovery '
                'live with up to two children under age 10 while they complete six to twelve months of treatment.'
                '</p></main></div>')
    assert levels(tmp_path, unclosed) == ["residential"]
    spectra = ('<main><h1>FAQ</h1><div class="uagb-faq-item" role="tab"><span class="uagb-question">Do you take '
               'Medicaid?</span><div class="uagb-faq-content" style="display:none"><p>Yes. Medicaid covers all of '
               'our programs: residential, IOP and outpatient counseling.</p></div></div></main>')
    assert levels(tmp_path, spectra) == ["iop", "outpatient", "residential"]


def test_a_cards_series_under_the_programs_own_lede_and_a_virtual_programs_pause(tmp_path):
    cards = ("<main><h1>Behavioral Health</h1><p>Caney Fork's behavioral health team cares for adults and older "
             "adults.</p><h3>Senior Care Unit</h3><p>A 14-bed unit for adults 55 and older.</p><h3>Intensive "
             "Outpatient Program</h3><p>Group therapy three days a week.</p><h3>Outpatient Clinic</h3><p>Medication "
             "management in the Medical Office Building.</p></main>")
    # The 14-bed unit is the hospital's inpatient unit, as batch 33's label of the whole page says:
    # the rules miss it, the page model (pipelines.site_model) reads it.
    assert sorted(saved_page_levels(tmp_path, cards, url="https://www.caneyforkhealth.example/behavioral-health")) == [
        "inpatient", "iop", "outpatient"]
    paused = ("<main><h1>Levels of Care</h1><h3>Intensive Outpatient (IOP)</h3><p>Monday, Wednesday and Thursday "
              "evenings, 4 to 7:30 p.m.</p><h3>Virtual IOP</h3><p>New enrollment in our Virtual IOP is paused for "
              "2026 while we hire.</p></main>")
    assert levels(tmp_path, paused) == ["iop"]


def test_kadence_accordion_panes_a_named_outpatient_center_and_a_rows_sessions(tmp_path):
    kadence = ('<main><h1>Admissions</h1><div class="kt-accordion-wrap"><div class="kt-accordion-pane '
               'kt-pane-header-alignment-left"><h3 class="kt-accordion-header-wrap">How long will I stay?</h3>'
               '<div class="kt-accordion-panel kt-accordion-panel-hidden"><p>Most guests stay with us 30 to 45 '
               'days, including detox, and some continue into our day program.</p></div></div></div></main>')
    assert sorted(levels(tmp_path, kadence)) == ["detox", "php"]
    center = ("<main><h1>Residential treatment</h1><p>Clients live at our Boerne campus for 30 to 60 days.</p>"
              "<p>Many clients step down to day treatment at our Boerne outpatient center, Monday through Friday "
              "from 9:00 to 3:00.</p></main>")
    assert "outpatient" not in levels(tmp_path, center)
    table = ("<main><h1>Programs</h1><table><tr><th>Program</th><th>When</th></tr><tr><td>Outpatient (Level I)</td>"
             "<td>One group and one individual session each week</td></tr></table></main>")
    assert levels(tmp_path, table) == ["outpatient"]


def test_godaddy_content_widgets_a_grid_of_level_cards_and_a_row_naming_its_own_level_again(tmp_path):
    godaddy = ('<div class="widget widget-header"><div data-ux="Header" role="main"><nav><a href="/">Home</a></nav>'
               '<h3>Stones River Veterans Recovery</h3></div></div><div class="widget widget-content"><h2>Evening '
               'IOP</h2><p>For veterans living at home, our Evening Intensive Outpatient Program meets Monday, '
               'Wednesday and Thursday from 6 to 9 p.m.</p></div><div class="widget widget-footer"><p>Residential '
               'Program</p></div>')
    assert levels(tmp_path, godaddy) == ["iop"]
    grid = ("<main><h1>Behavioral Health</h1><p>Care for people of all ages across the Columbia Basin.</p>"
            "<h2>Inpatient Psychiatry</h2><p>A 16-bed adult unit at Moses Lake Hospital.</p><h2>Partial "
            "Hospitalization Program</h2><p>Full-day treatment on weekdays in Ephrata.</p><h2>Intensive Outpatient "
            "Program</h2><p>Three-hour groups three days a week.</p><h2>Outpatient Behavioral Health Clinics</h2>"
            "<p>Therapy and psychiatry in Ephrata and Quincy.</p></main>")
    assert saved_page_levels(tmp_path, grid, url="https://goldcreek.example/behavioral-health") == [
        "inpatient", "iop", "outpatient", "php"]
    guide = ("<main><h1>Behavioral Health</h1><p>Care for people of all ages.</p><h2>Inpatient</h2><p>Inpatient "
             "care keeps people safe around the clock.</p><h2>Residential</h2><p>Residential programs give treatment "
             "and housing.</p><h2>Intensive Outpatient</h2><p>Intensive outpatient programs meet several times a "
             "week.</p><h2>Detox</h2><p>Detox helps people withdraw safely.</p></main>")
    assert saved_page_levels(tmp_path, guide, url="https://goldcreek.example/levels-explained") == []
    table = ("<main><h1>Levels of Care</h1><table><tr><th>Level of care</th><th>Length</th><th>Setting</th></tr>"
             "<tr><td>Withdrawal management (ASAM 3.7-WM)</td><td>3–7 days</td><td>Detox wing, nurses 24/7</td></tr>"
             "<tr><td>Intensive outpatient</td><td>—</td><td>Not offered here; we refer to partners</td></tr>"
             "</table></main>")
    assert levels(tmp_path, table) == ["detox"]


def test_a_list_under_the_programs_own_lede_sessions_by_rhythm_and_a_denial_for_some_patients(tmp_path):
    own_list = ("<main><h1>Quiet high-desert recovery</h1><p>Juniper Ridge is a 32-bed treatment center on the "
                "edge of Lakeview.</p><ul><li>Medically monitored detox with nurses on site 24/7</li>"
                "<li>Family program the second Saturday of every month</li></ul></main>")
    assert levels(tmp_path, own_list) == ["detox"]
    practice = ("<main><h1>Counseling for every season of life</h1><p>Mad River Counseling is a group practice in "
                "Urbana.</p><p>I'm Claire. We'll start with a phone call; then we meet for 50-minute sessions, "
                "usually once a week.</p></main>")
    assert levels(tmp_path, practice) == ["outpatient"]
    some = ("<main><h1>Medical Detox</h1><p>Our 16-bed detox unit is staffed by nurses around the clock.</p>"
            "<p>Please note: we are not able to admit patients who are pregnant for detox.</p></main>")
    assert levels(tmp_path, some) == ["detox"]


def test_a_table_of_what_plans_require_another_places_detox_in_an_answer_and_stays_of_weeks(tmp_path):
    plans = ("<main><h1>Using Your Insurance</h1><table><tr><th>Level of care</th><th>What plans typically require"
             "</th></tr><tr><td>Partial hospitalization</td><td>Prior authorization; review every 5–7 days</td></tr>"
             "<tr><td>Intensive outpatient</td><td>Review about every 10 sessions</td></tr></table></main>")
    assert levels(tmp_path, plans) == []
    answer = ("<main><h1>Frequently Asked Questions</h1><h3>Can I start right after detox?</h3><p>Yes. Many people "
              "come to us after withdrawal care at a hospital or a detox center.</p></main>")
    assert levels(tmp_path, answer) == []
    lodge = ("<main><h1>Healing in a good way</h1><h2>The Lodge</h2><p>A 16-bed lodge on the prairie where men and "
             "women stay for 30 days.</p></main>")
    assert levels(tmp_path, lodge) == ["residential"]


def test_a_title_closed_mid_line_a_level_on_hold_the_clients_own_therapy_and_an_outpatient_building(tmp_path):
    closed = ("<main><h1>Adolescent Residential Treatment Center</h1><p>Program update: As of March 1, 2026, the "
              "Adolescent Residential Treatment Center has closed.</p><p>For more than ten years our residential "
              "treatment center cared for teens.</p></main>")
    assert levels(tmp_path, closed) == []
    on_hold = ("<main><h1>Services</h1><p>Our residential house for teen girls has been on hold since the state "
               "funding cut in 2025.</p></main>")
    assert levels(tmp_path, on_hold) == []
    whose = ("<main><h1>Serious help for teens</h1><p>Juniper Ridge helps teens whose weekly therapy isn't enough "
             "right now.</p></main>")
    assert levels(tmp_path, whose) == []
    building = ("<main><h1>Inpatient unit</h1><p>Our 20-bed inpatient unit is staffed around the clock. Many "
                "patients step down to our Partial Hospitalization Program in the outpatient building next door."
                "</p></main>")
    assert levels(tmp_path, building) == ["inpatient", "php"]
